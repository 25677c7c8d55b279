"""The system Chromium, headless, driven by playwright-core through clients/browser/driver.mjs (docs/console.md).

One node process holds one browser for a test module; each page is opened in a context of its own, so
sessionStorage (the console's token) never leaks between tests. Requests and answers are JSON lines.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DRIVER_DIR = ROOT / "clients" / "browser"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Longer than any single wait the tests ask the driver for.
ANSWER_SECONDS = 60


def missing() -> str | None:
    """Why the browser tests cannot run here, or None. AIRSIDE_CHROMIUM names another Chromium binary."""
    chromium = chromium_binary()
    if not Path(chromium).is_file() or not os.access(chromium, os.X_OK):
        return (
            f"Chromium not found at {chromium} (apt-get install chromium; `make browser` does it as root; AIRSIDE_CHROMIUM names another)"
        )
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs)"
    if not (DRIVER_DIR / "node_modules" / "playwright-core").is_dir():
        return f"playwright-core is not installed: cd {DRIVER_DIR.relative_to(ROOT)} && npm ci (`make browser` does it)"
    return None


def chromium_binary() -> str:
    return os.environ.get("AIRSIDE_CHROMIUM", DEFAULT_CHROMIUM)


class DriverError(AssertionError):
    """The browser did not do what was asked (a selector never appeared, a click found nothing)."""


class Browser:
    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self.process: subprocess.Popen[str] | None = None
        self.version = ""
        self._ids = 0

    def start(self) -> Browser:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["node", str(DRIVER_DIR / "driver.mjs"), chromium_binary()],
            cwd=DRIVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_file.open("ab"),
            text=True,
        )
        self.version = self._read()["ready"]
        return self

    def _read(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_SECONDS)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise DriverError(f"the browser driver did not answer (exit {self.process.poll()}); see {self.log_file}")
        return json.loads(line)

    def call(self, op: str, **args: Any) -> Any:
        assert self.process is not None and self.process.stdin is not None
        self._ids += 1
        self.process.stdin.write(json.dumps({"id": self._ids, "op": op, **args}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        assert answer["id"] == self._ids, answer
        if not answer["ok"]:
            raise DriverError(answer["error"])
        return answer["value"]

    def open(self, url: str) -> Page:
        return Page(self, self.call("open", url=url))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Page:
    """One console page in its own browser context; each method is one driver request."""

    def __init__(self, browser: Browser, page_id: int) -> None:
        self.browser = browser
        self.id = page_id

    def do(self, op: str, **args: Any) -> Any:
        try:
            return self.browser.call(op, page=self.id, **args)
        except DriverError as error:
            # What the page showed and said when it failed, for the report.
            shot = self.browser.log_file.parent / f"failed-page-{self.id}.png"
            self.browser.call("screenshot", page=self.id, path=str(shot))
            logs = self.browser.call("logs", page=self.id)
            raise DriverError(f"{error}\nscreenshot: {shot}\npage console:\n" + "\n".join(logs[-30:])) from None

    def wait(self, selector: str, *, timeout: float = 5.0, state: str = "visible") -> float:
        """Seconds until `selector` reached `state`; DriverError after `timeout`."""
        return self.do("wait", selector=selector, state=state, timeout=int(timeout * 1000)) / 1000

    def fill(self, selector: str, value: str) -> None:
        self.do("fill", selector=selector, value=value)

    def click(self, selector: str) -> None:
        self.do("click", selector=selector)

    def text(self, selector: str) -> str:
        return str(self.do("text", selector=selector))

    def attribute(self, selector: str, name: str) -> str | None:
        return self.do("attribute", selector=selector, name=name)

    def count(self, selector: str) -> int:
        return int(self.do("count", selector=selector))

    def screenshot(self, path: Path) -> Path:
        self.do("screenshot", path=str(path))
        return path

    def sign_in(self, token: str) -> None:
        """Paste a token as staff would, and wait for the feed's first snapshot."""
        self.fill("#token-input", token)
        self.click("#token-use")
        self.wait("body[data-feed='live'][data-snapshots='1']", timeout=15)

    def close(self) -> None:
        self.do("close")

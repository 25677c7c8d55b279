"""P7: `make run` in a fresh copy of the work tree, from a warm package cache, until every service is ready.

The copy has no .venv, so the clock covers what a new clone pays: the venv, the pinned install
(from pip's and uv's caches, warmed first and not timed), migrations, seeding and the start of all three
services. It runs on free ports with its own nats-server, never the one at 4222.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airside_tools.processes import free_port
from bench.stack import ROOT

READY_LINE = "Airside is ready in"


def _copy_tree(target: Path) -> None:
    """Tracked and new (not ignored) files, as a clone of the current work would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _warm_caches(python: str) -> None:
    """Everything `make install` fetches, into pip's cache (uv) and uv's (the rest), by the same install in a
    scratch copy: not timed, the target says a warm cache."""
    with tempfile.TemporaryDirectory(prefix="airside-p7-warm-") as tmp:
        _copy_tree(Path(tmp))
        subprocess.run(["make", "install", f"PYTHON={python}"], check=True, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(*, timeout: float = 180) -> dict[str, Any]:
    python = shutil.which("python3") or sys.executable
    _warm_caches(python)
    with tempfile.TemporaryDirectory(prefix="airside-p7-") as tmp:
        tree = Path(tmp)
        _copy_tree(tree)
        env = {
            **os.environ,
            "AIRSIDE_NATS_URL": f"nats://127.0.0.1:{free_port()}",
            "BOOKING_PORT": str(free_port()),
            "LOUNGE_PORT": str(free_port()),
            "CALLCENTER_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1",
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            ["make", "run", f"PYTHON={python}"], cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, text=True,
        )  # fmt: skip
        ready_at, reported, lines = None, None, []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line.rstrip())
                if READY_LINE in line:
                    ready_at = time.perf_counter()
                    reported = float(line.split(READY_LINE, 1)[1].split("s", 1)[0])
                    break
                if time.perf_counter() - started > timeout:
                    break
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if ready_at is None:
            raise RuntimeError("make run never became ready:\n" + "\n".join(lines[-30:]))
    return {"seconds": ready_at - started, "services_ready_seconds": reported, "python": python}

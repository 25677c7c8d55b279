"""The staff console in a real browser: the three services as processes, one Chromium for the module
(tests/browser/chromium_driver.py), and a directory for the screenshots, printed at the end of the run.

AIRSIDE_TEST_ARTEFACTS names the directory (it is emptied of earlier screenshots, never deleted);
unset, it is one under pytest's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from chromium_driver import Browser
from e2e_steps import Airside

from airside_tools.testing.harness import ServiceSet, services_running

ARTEFACTS = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def artefacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("AIRSIDE_TEST_ARTEFACTS")
    directory = Path(configured) / "browser" if configured else tmp_path_factory.mktemp("browser-artefacts")
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    request.config.stash[ARTEFACTS] = directory
    return directory


@pytest.fixture(scope="module")
def browser(artefacts: Path) -> Iterator[Browser]:
    started = Browser(artefacts / "driver.log").start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def console_services(databases, nats_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceSet]:
    with services_running(databases, nats_server.url, tmp_path_factory.mktemp("console-services")) as service_set:
        yield service_set


@pytest.fixture(scope="module")
async def airside(console_services: ServiceSet, nats_server) -> AsyncIterator[Airside]:
    urls = {name: console_services[name].url for name in ("booking", "lounge", "callcenter")}
    async with httpx.AsyncClient(timeout=30) as http:
        yield Airside.connect(http, urls, nats_server.url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    directory = config.stash.get(ARTEFACTS, None)
    if directory is not None:
        shots = sorted(path.name for path in directory.glob("*.png"))
        terminalreporter.write_line(f"browser screenshots ({len(shots)}) in {directory}: {', '.join(shots)}")

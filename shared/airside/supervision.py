"""A service's background tasks (relay, consumers, feed, jobs) outlive their own crash: an exception that
escapes one is logged with its traceback, counted, and the task is started again after a pause, rather than
the task ending unseen while the process goes on answering as if it ran (docs/architecture.md, Processes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from airside.metrics import TASK_RESTARTS

log = logging.getLogger("airside.tasks")

RESTART_AFTER_SECONDS = 1.0


def supervised(
    service: str, name: str, run: Callable[[], Awaitable[None]], *, restart_after: float = RESTART_AFTER_SECONDS
) -> asyncio.Task[None]:
    """A task running `run()` until it returns (a stop) or is cancelled; started again whenever it raises."""

    async def keep_running() -> None:
        while True:
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                TASK_RESTARTS.labels(service, name).inc()
                log.exception("background task failed; starting it again", extra={"task": name, "restart_after": restart_after})
                await asyncio.sleep(restart_after)

    return asyncio.create_task(keep_running(), name=name)

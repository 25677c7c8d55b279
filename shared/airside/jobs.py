"""Scheduled work inside a service: one transaction per pass, every scheduler interval.

The state a pass acts on lives in the database and each firing is claimed with a conditional
UPDATE in the pass's transaction, so jobs survive restarts and never fire twice with replicas.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from airside import clock
from airside.metrics import JOB_PASSES

if TYPE_CHECKING:
    from airside.runtime import Job, Runtime

log = logging.getLogger("airside.jobs")

Pass = Callable[..., Awaitable[Any]]


def periodic(name: str, run_pass: Pass) -> Job:
    """A job calling `run_pass(session=..., now=...)` and committing, for ever; a failed pass is logged."""

    async def job(runtime: Runtime) -> None:
        while True:
            try:
                async with runtime.db.session() as session:
                    await run_pass(session=session, now=clock.now())
                    await session.commit()
                JOB_PASSES.labels(runtime.settings.service_name, name).inc()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not runtime.db.unavailable(exc):  # an outage is logged once, by the database
                    log.exception("%s pass failed", name)
            await asyncio.sleep(runtime.settings.scheduler_interval_seconds)

    job.__name__ = name
    return job

"""A background task that raises is logged, counted and started again, in a service as in the unit
(airside.supervision); before, the webhook dispatcher's crash at its start left it dead and unseen."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import ClassVar

import pytest
from prometheus_client import REGISTRY
from sqlmodel import SQLModel

from airside.app import ServiceDefinition
from airside.db.database import Database
from airside.runtime import Runtime
from airside.settings import AirsideSettings
from airside.supervision import supervised
from airside_tools.testing.harness import in_process, nats_under, settings_for_test, wait_for


def restarts(service: str, task: str) -> float:
    return REGISTRY.get_sample_value("airside_background_task_restarts_total", {"service": service, "task": task}) or 0.0


async def test_a_task_that_raises_is_logged_and_started_again_until_it_returns(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"failure {len(runs)}")

    before = restarts("probe", "flaky")
    with caplog.at_level(logging.ERROR, logger="airside.tasks"):
        await asyncio.wait_for(supervised("probe", "flaky", flaky, restart_after=0.01), timeout=5)
    assert runs == [0, 1, 2]
    assert restarts("probe", "flaky") - before == 2
    failures = [record for record in caplog.records if record.name == "airside.tasks"]
    assert [record.exc_info[1].args[0] for record in failures if record.exc_info] == ["failure 1", "failure 2"]
    assert all(getattr(record, "task", None) == "flaky" for record in failures)


async def test_a_cancelled_task_is_not_started_again() -> None:
    started = asyncio.Event()

    async def waits() -> None:
        started.set()
        await asyncio.Event().wait()

    task = supervised("probe", "waits", waits, restart_after=0.01)
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class ProbeSettings(AirsideSettings):
    service_name: ClassVar[str] = "supervision-probe"


attempts: list[int] = []


async def fails_at_first(runtime: Runtime) -> None:
    """A job that dies on its first start, as the dispatcher did on a client it could not build."""
    attempts.append(1)
    if len(attempts) == 1:
        raise RuntimeError("could not start")
    await asyncio.Event().wait()


PROBE = ServiceDefinition(
    name="supervision-probe",
    title="supervision",
    settings_class=ProbeSettings,
    routers=[],
    alembic_dir=Path("unused"),
    jobs=[fails_at_first],
)


async def test_a_service_job_that_dies_at_its_start_runs_again(tmp_path, databases) -> None:
    attempts.clear()
    with nats_under(tmp_path / "nats") as nats:
        settings = settings_for_test(PROBE, database_url=databases.create("supervision"), nats_url=nats.url, migrate_on_start=False)
        db = Database(settings.database_url)
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        await db.dispose()
        async with in_process(PROBE, settings):
            await wait_for(lambda: asyncio.sleep(0, len(attempts) >= 2), timeout=10, what="the job started again")
        assert restarts("supervision-probe", "fails_at_first") >= 1

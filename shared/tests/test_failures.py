"""What a caller gets, and what the log says, when a route fails: a database away is 503 with
Retry-After and one log line per outage; a crash is 500 and one log record with the correlation id."""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel
from unreachable import UNREACHABLE

from airside.db.database import Database
from airside.logs import configure_logging
from airside.problems import install_problem_handlers
from airside_tools.processes import ServiceProcess, free_port
from airside_tools.testing.harness import TEST_JWT_SECRET

HERE = Path(__file__).parent


# A value the database refuses, as the raw driver raises it (not wrapped by SQLAlchemy): the caller's data.
REFUSED_BY_THE_RAW_DRIVER = {
    "NUL in a text": lambda: asyncpg.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'),
    "number out of range": lambda: asyncpg.NumericValueOutOfRangeError("integer out of range"),
    "bad datetime": lambda: asyncpg.DatetimeFieldOverflowError("date/time field value out of range"),
}


@pytest.fixture
async def unreachable_client():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/unreachable/{kind}")
    async def unreachable(kind: str) -> None:
        raise UNREACHABLE[kind]()

    @app.get("/refused/{kind}")
    async def refused(kind: str) -> None:
        raise REFUSED_BY_THE_RAW_DRIVER[kind]()

    @app.get("/raw-crash")
    async def raw_crash() -> None:
        raise asyncpg.UndefinedTableError('relation "nowhere" does not exist')

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        yield client


@pytest.mark.parametrize("kind", UNREACHABLE)
async def test_every_way_the_database_is_unreachable_is_503_with_retry_after(unreachable_client, kind):
    response = await unreachable_client.get(f"/unreachable/{kind}")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/unavailable"
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("kind", REFUSED_BY_THE_RAW_DRIVER)
async def test_a_value_the_raw_driver_refuses_is_422(unreachable_client, kind):
    response = await unreachable_client.get(f"/refused/{kind}")
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/validation_error"


async def test_another_raw_driver_error_is_a_500(unreachable_client):
    assert (await unreachable_client.get("/raw-crash")).status_code == 500


@pytest.fixture
async def crashing_service(nats_server, databases, tmp_path) -> AsyncIterator[ServiceProcess]:
    """The crashing service under uvicorn as the Dockerfiles run a service, its tables created here (it has no migrations)."""
    database_url = databases.create("crashing")
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    await db.dispose()
    env = {
        "AIRSIDE_DATABASE_URL": database_url,
        "AIRSIDE_NATS_URL": nats_server.url,
        "AIRSIDE_JWT_SECRET": TEST_JWT_SECRET,
        "AIRSIDE_MIGRATE_ON_START": "false",
        "ABSENT_DATABASE_PORT": str(free_port()),
        "PYTHONPATH": str(HERE),
    }
    service = ServiceProcess("crashing", free_port(), env, tmp_path / "crashing.log").start()
    try:
        await asyncio.to_thread(service.wait_ready, 60)
        yield service
    finally:
        service.stop()


def log_records(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines; anything else printed (uvicorn's start, a bare traceback) as {"raw": line}."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"raw": line})
    return records


CRASHES = ["route", "dependency", "statement"]


async def test_a_crash_is_one_log_record_with_its_correlation_id(crashing_service):
    correlation_ids = {}
    async with httpx.AsyncClient(base_url=crashing_service.url, timeout=10) as client:
        for crash in CRASHES:
            correlation_ids[crash] = uuid.uuid4().hex
            response = await client.get(f"/v1/failures/{crash}", headers={"X-Correlation-ID": correlation_ids[crash]})
            assert response.status_code == 500, (crash, response.text)
            assert response.json()["type"] == "/problems/internal_error"
            assert correlation_ids[crash] in response.json()["detail"]
            assert "crashed" not in response.text
    crashing_service.stop()  # its log complete

    records = log_records(crashing_service.log_file)
    for crash, correlation_id in correlation_ids.items():
        about_it = [record for record in records if correlation_id in json.dumps(record)]
        assert len(about_it) == 1, (crash, about_it)
        (record,) = about_it
        assert record["correlation_id"] == correlation_id
        assert record["level"] == "ERROR" and "Traceback" in record["exc_info"], record
    # Nothing else told of a failure: no second traceback from the server, with or without the id.
    failures = [record for record in records if "exc_info" in record or "Traceback" in record.get("raw", "")]
    assert len(failures) == len(CRASHES), failures
    assert not [record for record in records if record.get("message") == "Exception in ASGI application"]


async def test_a_database_away_is_503_and_said_once_in_the_log(crashing_service):
    async with httpx.AsyncClient(base_url=crashing_service.url, timeout=10) as client:
        for _ in range(5):
            response = await client.get("/v1/failures/database-away")
            assert response.status_code == 503, response.text
            assert response.json()["type"] == "/problems/unavailable"
            assert int(response.headers["Retry-After"]) > 0
    crashing_service.stop()

    records = log_records(crashing_service.log_file)
    assert [record.get("message") for record in records].count("database unavailable") == 1
    assert [record for record in records if "exc_info" in record or "Traceback" in record.get("raw", "")] == []


async def test_a_sql_error_carries_no_bound_value_and_its_logged_traceback_no_phone(databases, capsys):
    """Bound parameters (phone numbers) stay out of an error's text, on every engine; what the server
    itself quotes (PostgreSQL's DETAIL: Key (phone)=(...)) is masked when the traceback is logged."""
    db = Database(databases.create("hidden_parameters"))
    phone, digits = "+8613912340000", "13912340000"
    errors = []
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE caller (phone VARCHAR(32) UNIQUE)"))
        for statement in (
            "INSERT INTO caller (phone) VALUES (:phone)",
            "INSERT INTO caller (phone) VALUES (:phone)",
            "SELECT nothing WHERE :phone",
        ):
            try:
                async with db.engine.begin() as conn:
                    await conn.execute(text(statement), {"phone": phone})
            except DBAPIError as exc:
                errors.append(exc)
    finally:
        await db.dispose()
    assert len(errors) == 2  # the second insert and the bad select
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    configure_logging("probe")
    try:
        for exc in errors:
            # What a dead letter stores and a warning quotes: the error's own text.
            assert digits not in str(exc) and digits not in repr(exc), str(exc)
            assert "parameters hidden" in str(exc)
            logging.getLogger("airside.probe").error("statement failed", exc_info=exc)
    finally:
        root.handlers[:], level = kept
        root.setLevel(level)
    logged = capsys.readouterr().err
    assert logged.count("statement failed") == 2 and "Traceback" in logged
    assert digits not in logged, logged


def test_no_log_line_holds_a_phone_number(capsys):
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    configure_logging("probe")
    try:
        try:
            raise ValueError("caller +8613912340001 is unknown")
        except ValueError:
            logging.getLogger("airside.probe").exception("lookup of +8613912340002 failed", extra={"query": "phone=%2B8613912340003"})
    finally:
        root.handlers[:], level = kept
        root.setLevel(level)
    line = capsys.readouterr().err
    assert "lookup of" in line and "query" in line and "ValueError" in line
    for digits in ("13912340001", "13912340002", "13912340003"):
        assert digits not in line, line

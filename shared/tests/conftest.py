"""A small service built only from the shared platform, to test delivery with real NATS and a real database."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside.app import ServiceDefinition
from airside.db.database import Database
from airside.db.dependencies import SessionDep
from airside.events import booking as booking_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.outbox import record
from airside.messaging.streams import ConsumerSpec
from airside.settings import AirsideSettings
from airside_tools.testing.harness import InProcessService, in_process, settings_for_test


class Tally(SQLModel, table=True):
    """How often the consumer applied a station's event: more than once would be a doubled effect."""

    code: str = Field(primary_key=True)
    applied: int = 0


class Switch:
    broken_names: set[str] = set()
    # A station name whose handler meets the database away, in the shape the factory raises.
    outages: dict[str, Callable[[], BaseException]] = {}


async def count_station(session: AsyncSession, event: CloudEvent) -> None:
    station = booking_events.station_upserted.parse(event)
    if station.name in Switch.outages:
        raise Switch.outages[station.name]()
    if station.name in Switch.broken_names:
        raise RuntimeError(f"handler cannot take {station.name} yet")
    tally = await session.get(Tally, station.code) or Tally(code=station.code)
    tally.applied += 1
    session.add(tally)


router = APIRouter()


@router.post("/v1/stations/{code}", status_code=201)
async def announce(code: str, name: str, session: SessionDep) -> dict[str, str]:
    event = record(
        session, booking_events.station_upserted, booking_events.StationUpserted(code=code, name=name, timezone="UTC"), subject=code
    )
    await session.commit()
    return {"event_id": event.id}


@router.get("/v1/tallies/{code}")
async def tally(code: str, session: SessionDep) -> dict[str, int]:
    row = await session.get(Tally, code)
    return {"applied": row.applied if row else 0}


class ProbeSettings(AirsideSettings):
    pass


PROBE = ServiceDefinition(
    name="probe",
    title="delivery probe",
    settings_class=ProbeSettings,
    routers=[router],
    alembic_dir=Path("unused"),
    consumers=[
        ConsumerSpec(
            durable="probe-stations",
            stream="AIRSIDE_BOOKING",
            filter_subject="airside.booking.station.upserted",
            handlers={booking_events.station_upserted.type: count_station},
        )
    ],
)


async def probe_settings_on(databases, nats_url: str, database_name: str, **overrides) -> AirsideSettings:
    """Settings of a probe on a fresh database of its own, its tables created."""
    settings = settings_for_test(
        PROBE, database_url=databases.create(database_name), nats_url=nats_url, migrate_on_start=False, **overrides
    )
    db = Database(settings.database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    await db.dispose()
    return settings


@pytest.fixture(scope="session")
async def probe_settings(nats_server, databases) -> AirsideSettings:
    return await probe_settings_on(databases, nats_server.url, "probe")


@pytest.fixture(scope="session")
async def probe(probe_settings) -> AsyncIterator[InProcessService]:
    async with in_process(PROBE, probe_settings) as service:
        yield service

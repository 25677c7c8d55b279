from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.messaging.outbox import record
from booking.stations.models import Station, StationUpdate


async def list_stations(*, session: AsyncSession) -> list[Station]:
    return list((await session.execute(select(Station).order_by(Station.code))).scalars().all())


async def upsert_station(*, session: AsyncSession, code: str, update: StationUpdate) -> Station:
    """Create or change a station; lounge and callcenter learn its time zone from the event."""
    station = await session.get(Station, code)
    if station is None:
        station = Station(code=code, name=update.name, timezone=update.timezone)
        session.add(station)
    else:
        station.name = update.name
        station.timezone = update.timezone
        station.version += 1
    upserted = events.StationUpserted(code=code, name=station.name, timezone=station.timezone, version=station.version)
    record(session, events.station_upserted, upserted, subject=code)
    return station

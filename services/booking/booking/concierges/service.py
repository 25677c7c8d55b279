from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.problems import conflict, invalid, not_found
from booking.concierges.models import (
    Concierge,
    ConciergeCreate,
    Shift,
    ShiftIn,
    ShiftPublic,
)
from booking.stations.models import Station


async def station_zone(*, session: AsyncSession, code: str) -> ZoneInfo:
    station = await session.get(Station, code)
    if station is None:
        raise invalid("body.station", f"unknown station {code}")
    return ZoneInfo(station.timezone)


def local_day(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a station's local day runs between."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


async def create_concierge(*, session: AsyncSession, body: ConciergeCreate) -> Concierge:
    await station_zone(session=session, code=body.station)
    concierge = Concierge(name=body.name, station=body.station, phone=body.phone, subject="")
    concierge.subject = body.subject or concierge.id  # the identity provider's subject defaults to our id
    if await session.scalar(select(func.count()).where(Concierge.subject == concierge.subject)):
        raise conflict("subject_taken", f"subject {concierge.subject} belongs to another concierge")
    session.add(concierge)
    await session.flush()
    return concierge


async def list_concierges(*, session: AsyncSession, stations: Iterable[str] | None) -> list[Concierge]:
    query = select(Concierge).order_by(Concierge.station, Concierge.name, Concierge.id)
    if stations is not None:
        query = query.where(Concierge.station.in_(list(stations)))  # type: ignore[attr-defined]
    return list((await session.execute(query)).scalars().all())


async def get_concierge(*, session: AsyncSession, concierge_id: str) -> Concierge:
    concierge = await session.get(Concierge, concierge_id)
    if concierge is None:
        raise not_found("concierge")
    return concierge


async def visible_concierge(*, session: AsyncSession, principal: Principal, concierge_id: str) -> Concierge:
    """A concierge of the caller's stations; another station's is not found."""
    concierge = await get_concierge(session=session, concierge_id=concierge_id)
    principal.require_station_to_see(concierge.station, "concierge")
    return concierge


async def concierge_for_subject(*, session: AsyncSession, subject: str) -> Concierge | None:
    return (await session.execute(select(Concierge).where(Concierge.subject == subject))).scalar_one_or_none()


def _local(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


async def replace_shifts(*, session: AsyncSession, concierge: Concierge, day: date, shifts: list[ShiftIn]) -> list[Shift]:
    """The day's shifts in local HH:MM; an end before the start runs past midnight."""
    zone = await station_zone(session=session, code=concierge.station)
    rows: list[Shift] = []
    for index, shift in enumerate(shifts):
        if shift.start == shift.end:
            raise invalid(f"body.{index}.end", "a shift must not end when it starts")
        start_at = _local(day, shift.start, zone)
        end_day = day + timedelta(days=1) if shift.end < shift.start else day
        rows.append(
            Shift(
                concierge_id=concierge.id,
                shift_date=day,
                start=shift.start,
                end=shift.end,
                start_at=start_at,
                end_at=_local(end_day, shift.end, zone),
            )
        )
    ordered = sorted(rows, key=lambda row: row.start_at)
    for earlier, later in pairwise(ordered):
        if later.start_at < earlier.end_at:
            raise invalid("body", f"shifts {earlier.start}-{earlier.end} and {later.start}-{later.end} overlap")
    await session.execute(delete(Shift).where(Shift.concierge_id == concierge.id, Shift.shift_date == day))  # type: ignore[arg-type]
    session.add_all(rows)
    await session.flush()
    return ordered


def shift_public(shift: Shift) -> ShiftPublic:
    return ShiftPublic(start=shift.start, end=shift.end, start_at=shift.start_at, end_at=shift.end_at)

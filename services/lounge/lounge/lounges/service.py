"""The lounges of the caller's stations, and finding one as a route needs it."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.problems import not_found
from lounge.lounges.models import Lounge


async def lounges_at(session: AsyncSession, stations: frozenset[str] | None) -> list[Lounge]:
    """The lounges at `stations` (None: every station), by station and id."""
    query = select(Lounge).order_by(Lounge.station, Lounge.id)
    if stations is not None:
        query = query.where(Lounge.station.in_(stations))  # type: ignore[attr-defined]
    return list((await session.execute(query)).scalars())


async def lounge_to_see(session: AsyncSession, principal: Principal, lounge_id: str) -> Lounge:
    """A lounge of the caller's stations; another station's lounge is not found."""
    lounge = await session.get(Lounge, lounge_id)
    if lounge is None or not principal.covers(lounge.station):
        raise not_found("lounge")
    return lounge


async def lounge_to_create_at(session: AsyncSession, principal: Principal, lounge_id: str) -> Lounge:
    """Creating a record (a visit, a count, a delivery) at a station outside the token is forbidden."""
    lounge = await session.get(Lounge, lounge_id)
    if lounge is None:
        raise not_found("lounge")
    principal.require_station_to_create(lounge.station)
    return lounge

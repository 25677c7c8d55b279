"""Who may do what at a lounge (the routes by roles table of lounge.md)."""

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import STAFF_ROLES, Principal, Role, require
from airside.problems import not_found
from lounge.lounges.models import Lounge

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]
# Check in and out, sales, voids, stock, counts, deliveries, requisitions (submit, receive).
LoungeDesk = Annotated[Principal, Depends(require(Role.lounge_staff, Role.station_manager))]
Manager = Annotated[Principal, Depends(require(Role.station_manager))]
VisitReader = Annotated[
    Principal, Depends(require(Role.lounge_staff, Role.station_manager, Role.agent, Role.team_lead, Role.supervisor, Role.member))
]
Reporter = Annotated[Principal, Depends(require(Role.station_manager))]


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


def may_see_visit(principal: Principal, station: str, member_id: str | None) -> bool:
    if principal.is_member_only:
        return member_id is not None and principal.owns_member(member_id)
    return principal.covers(station)

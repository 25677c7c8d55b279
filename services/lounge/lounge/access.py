"""Who may do what at a lounge (the routes by roles table of docs/lounge.md)."""

from typing import Annotated

from fastapi import Depends

from airside.auth import STAFF_ROLES, Principal, Role, require

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]
# Check in and out, sales, voids, stock, counts, deliveries, requisitions (submit, receive).
LoungeDesk = Annotated[Principal, Depends(require(Role.lounge_staff, Role.station_manager))]
Manager = Annotated[Principal, Depends(require(Role.station_manager))]
VisitReader = Annotated[
    Principal, Depends(require(Role.lounge_staff, Role.station_manager, Role.agent, Role.team_lead, Role.supervisor, Role.member))
]
Reporter = Annotated[Principal, Depends(require(Role.station_manager))]


def may_see_visit(principal: Principal, station: str, member_id: str | None) -> bool:
    if principal.is_member_only:
        return member_id is not None and principal.owns_member(member_id)
    return principal.covers(station)

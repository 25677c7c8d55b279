from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import IsoDate
from booking.concierges import service
from booking.concierges.models import Concierge, ConciergeCreate, ConciergePublic, ShiftIn, ShiftPublic

router = APIRouter(prefix="/v1/concierges", tags=["concierges"])

Lead = Annotated[Principal, Depends(require(Role.concierge_lead, Role.station_manager))]


def _public(concierge: Concierge) -> ConciergePublic:
    return ConciergePublic.model_validate(concierge, from_attributes=True)


@router.post("", summary="Add a concierge", status_code=201)
async def create_concierge(body: ConciergeCreate, session: SessionDep, principal: Lead, idempotency: IdempotencyDep) -> ConciergePublic:
    """Add a concierge at a station."""
    principal.require_station_to_create(body.station)

    async def act() -> ConciergePublic:
        return _public(await service.create_concierge(session=session, body=body))

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]


@router.get("", summary="List concierges")
async def list_concierges(
    session: SessionDep,
    principal: Lead,
    cursor: Annotated[Keyset, keyset(str, str, str)],
    station: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    limit: LimitQuery = 200,
) -> Page[ConciergePublic]:
    """The concierges visible to the caller."""
    stations = principal.station_filter()
    if station is not None:
        stations = frozenset({station}) & stations if stations is not None else frozenset({station})
    concierges = await service.list_concierges(session=session, stations=stations)
    kept, next_cursor = cursor.page_of(concierges, limit, lambda concierge: (concierge.station, concierge.name, concierge.id))
    return Page(items=[_public(concierge) for concierge in kept], next_cursor=next_cursor)


@router.get("/{concierge_id}", summary="Read a concierge", response_model=ConciergePublic, responses=CONDITIONAL_GET)
async def get_concierge(concierge_id: str, session: SessionDep, principal: Lead, if_none_match: IfNoneMatch = None) -> Response:
    """One concierge."""
    concierge = await service.visible_concierge(session=session, principal=principal, concierge_id=concierge_id)
    return conditional.answer(ConciergePublic, _public(concierge), if_none_match)


@router.put("/{concierge_id}/shifts/{day}", summary="Set a concierge's shifts for a day")
async def put_shifts(
    concierge_id: str,
    day: IsoDate,
    shifts: Annotated[list[ShiftIn], Body(max_length=6)],
    session: SessionDep,
    principal: Lead,
) -> list[ShiftPublic]:
    """Replace a concierge's shifts on one day."""
    concierge = await service.visible_concierge(session=session, principal=principal, concierge_id=concierge_id)
    rows = await service.replace_shifts(session=session, concierge=concierge, day=day, shifts=shifts)
    await session.commit()
    return [service.shift_public(row) for row in rows]

"""Who can take an order (GET /v1/orders/{id}/candidates) and a concierge's day (GET /v1/concierges/{id}/schedule)."""

from typing import Annotated

from fastapi import APIRouter, Query

from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import IsoDate
from booking.assignments import service
from booking.assignments.models import Candidate, Schedule
from booking.concierges.service import visible_concierge
from booking.orders.access import Lead, visible_order

router = APIRouter()


@router.get("/v1/orders/{order_id}/candidates", summary="List the concierges free for an order", tags=["orders"])
async def candidates(
    order_id: str, session: SessionDep, principal: Lead, cursor: Annotated[Keyset, keyset(int, str, str)], limit: LimitQuery = 200
) -> Page[Candidate]:
    """The concierges who could take an order: on shift, free at its time, least busy first."""
    order = await visible_order(session, principal, order_id)
    free = await service.candidates(session=session, order=order)
    kept, next_cursor = cursor.page_of(free, limit, lambda candidate: (candidate.assignments_that_day, candidate.name, candidate.id))
    return Page(items=kept, next_cursor=next_cursor)


@router.get("/v1/concierges/{concierge_id}/schedule", summary="Read a concierge's day schedule", tags=["concierges"])
async def get_schedule(concierge_id: str, day: Annotated[IsoDate, Query(alias="date")], session: SessionDep, principal: Lead) -> Schedule:
    """A concierge's shifts and assignments on one day."""
    concierge = await visible_concierge(session=session, principal=principal, concierge_id=concierge_id)
    return await service.schedule(session=session, concierge=concierge, day=day)

from datetime import date
from typing import Annotated

from fastapi import APIRouter

from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import IsoDate
from lounge.access import Staff
from lounge.lounges.service import lounge_to_see
from lounge.orders import service
from lounge.orders.models import ExpectedVisitPublic

router = APIRouter(tags=["visits"])


@router.get("/v1/lounges/{lounge_id}/expected-visits", summary="List the guests expected by order")
async def expected_visits(
    lounge_id: str,
    session: SessionDep,
    principal: Staff,
    cursor: Annotated[Keyset, keyset(date, str, str)],
    flight_date: IsoDate | None = None,
    order_id: str | None = None,
    limit: LimitQuery = 200,
) -> Page[ExpectedVisitPublic]:
    """Orders with a LOUNGE item at this lounge's station, as booking announced them (cancelled ones dropped)."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    rows = await service.expected_at_station(
        session=session, station=lounge.station, flight_date=flight_date, order_id=order_id, after=cursor.after, limit=limit
    )
    expected, next_cursor = cursor.page(rows, limit, lambda row: (row.flight_date, row.flight_no, row.order_id))
    return Page(items=[ExpectedVisitPublic.model_validate(row, from_attributes=True) for row in expected], next_cursor=next_cursor)

from fastapi import APIRouter
from sqlalchemy import select

from airside.db import SessionDep
from airside.types import IsoDate
from lounge.access import Staff, lounge_to_see
from lounge.orders.models import ExpectedVisit, ExpectedVisitPublic
from lounge.orders.service import NO_LOUNGE

router = APIRouter(tags=["visits"])


@router.get("/v1/lounges/{lounge_id}/expected-visits")
async def expected_visits(
    lounge_id: str, session: SessionDep, principal: Staff, flight_date: IsoDate | None = None, order_id: str | None = None
) -> list[ExpectedVisitPublic]:
    """Orders with a LOUNGE item at this lounge's station, as booking announced them (cancelled ones dropped)."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    query = (
        select(ExpectedVisit)
        .where(ExpectedVisit.station == lounge.station, ExpectedVisit.status != NO_LOUNGE)
        .order_by(ExpectedVisit.flight_date, ExpectedVisit.flight_no)
        .limit(500)
    )  # type: ignore[arg-type]
    if flight_date is not None:
        query = query.where(ExpectedVisit.flight_date == flight_date)
    if order_id is not None:
        query = query.where(ExpectedVisit.order_id == order_id)
    return [ExpectedVisitPublic.model_validate(row, from_attributes=True) for row in (await session.execute(query)).scalars()]

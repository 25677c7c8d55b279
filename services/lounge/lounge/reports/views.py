from typing import Annotated

from fastapi import APIRouter, Header, Response

from airside.csv_export import csv_attachment
from airside.db.dependencies import SessionDep
from airside.types import IsoDate
from lounge.access import Reporter
from lounge.lounges.service import lounge_to_see
from lounge.reports import service
from lounge.reports.service import DailySales

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/daily-sales", summary="Report a lounge's sales of a day", response_model=DailySales, responses={200: {"content": {"text/csv": {}}}}
)
async def daily_sales(
    lounge_id: str, date: IsoDate, session: SessionDep, principal: Reporter, accept: Annotated[str | None, Header()] = None
) -> DailySales | Response:
    """Lines, totals by category and payment method, complimentary value and unsettled bills; CSV on Accept: text/csv."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    report = await service.daily_sales(session=session, lounge=lounge, day=date)
    if accept and "text/csv" in accept:
        return csv_attachment(service.csv_rows(report), f"daily-sales-{lounge.id}-{date.isoformat()}.csv")
    return report

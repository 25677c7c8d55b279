from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from airside.auth import Principal, Role, require
from airside.csv_export import csv_attachment
from airside.db.dependencies import SessionDep
from airside.types import IsoDate
from booking.reports import service
from booking.reports.service import DailyServices

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/daily-services",
    summary="Report a station's services of a day",
    response_model=DailyServices,
    responses={200: {"content": {"text/csv": {}}}},
)
async def daily_services(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Role.concierge_lead, Role.station_manager))],
    station: Annotated[str, Query(pattern="^[A-Z]{3}$")],
    day: Annotated[IsoDate, Query(alias="date", description="The station's local day")],
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The services given at a station on a day, as JSON or CSV (`Accept: text/csv`)."""
    principal.require_station_to_see(station, "station")  # like every read of another station: 404
    report = await service.daily_services(session=session, station=station, day=day)
    if accept and "text/csv" in accept:
        return csv_attachment(service.csv_rows(report), f"daily-services-{station}-{day.isoformat()}.csv")
    # Serialised by pydantic-core straight to JSON: validating thousands of lines again on the way
    # out (FastAPI's response_model path) cost more than building them.
    return Response(report.json(), media_type="application/json")

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from airside import clock
from airside.auth import Principal, Role, require
from airside.copies import station_timezone
from airside.db.dependencies import SessionDep
from airside.problems import invalid
from airside.types import IsoDate
from callcenter.reports import service
from callcenter.stations import Station

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Reporter = Annotated[Principal, Depends(require(Role.team_lead, Role.supervisor, Role.station_manager))]
StationQuery = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]
FromQuery = Annotated[IsoDate, Query(alias="from", description="First local day")]
ToQuery = Annotated[IsoDate, Query(alias="to", description="Last local day (inclusive)")]


async def _scope(session: SessionDep, principal: Principal, station: str | None, day_from: date, day_to: date) -> tuple[Any, ...]:
    if day_to < day_from:
        raise invalid("query.to", "must not be before from")
    if (day_to - day_from).days > 366:
        raise invalid("query.to", "a report covers at most a year")
    if station is not None:
        principal.require_station_to_see(station, "station")
        stations: frozenset[str] | None = frozenset({station})
    else:
        stations = principal.station_filter()
    timezone = await station_timezone(session, Station, station or next(iter(sorted(stations or {"PEK"}))))
    start, end = service.window(day_from, day_to, timezone)
    return stations, start, end, timezone


@router.get("/kpis", summary="Report ticket KPIs")
async def kpis(
    session: SessionDep,
    principal: Reporter,
    day_from: FromQuery,
    day_to: ToQuery,
    station: StationQuery = None,
    group_by: Literal["day", "agent"] | None = None,
) -> dict[str, Any]:
    """Ticket KPIs over a period, by day or by agent."""
    stations, start, end, timezone = await _scope(session, principal, station, day_from, day_to)
    figures = await service.kpis(
        session=session, stations=stations, start=start, end=end, group_by=group_by, timezone=timezone, now=clock.now()
    )
    return {"station": station, "from": day_from, "to": day_to, "group_by": group_by, **figures}


@router.get("/callbacks", summary="Report callback outcomes")
async def callbacks(
    session: SessionDep, principal: Reporter, day_from: FromQuery, day_to: ToQuery, station: StationQuery = None
) -> dict[str, Any]:
    """Callback outcomes over a period."""
    stations, start, end, _timezone = await _scope(session, principal, station, day_from, day_to)
    summary = await service.callback_summary(session=session, stations=stations, start=start, end=end)
    return {"station": station, "from": day_from, "to": day_to, **summary}

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from airside.auth import CurrentUser, Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from booking.stations import service
from booking.stations.models import StationPublic, StationUpdate

router = APIRouter(prefix="/v1/stations", tags=["stations"])

StationCode = Annotated[str, Path(pattern="^[A-Z]{3}$", description="IATA airport code")]


@router.get("", summary="List stations")
async def list_stations(
    session: SessionDep, _user: CurrentUser, cursor: Annotated[Keyset, keyset(str)], limit: LimitQuery = 200
) -> Page[StationPublic]:
    """The airports where the services run, by code."""
    stations, next_cursor = cursor.page_of(await service.list_stations(session=session), limit, lambda station: (station.code,))
    return Page(items=[StationPublic.model_validate(station, from_attributes=True) for station in stations], next_cursor=next_cursor)


@router.put("/{code}", summary="Create or replace a station")
async def put_station(
    code: StationCode,
    body: StationUpdate,
    session: SessionDep,
    _admin: Annotated[Principal, Depends(require(Role.admin))],
    idempotency: IdempotencyDep,
) -> StationPublic:
    """Create or replace a station (its name and time zone) by its IATA code."""

    async def act() -> StationPublic:
        station = await service.upsert_station(session=session, code=code, update=body)
        return StationPublic.model_validate(station, from_attributes=True)

    return await idempotency.execute(session, act)  # type: ignore[return-value]

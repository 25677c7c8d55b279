from typing import Annotated

from fastapi import APIRouter, Depends, Path

from airside.auth import STAFF_ROLES, Principal, require
from airside.db.dependencies import SessionDep
from airside.flight_numbers import FLIGHT_NO_PATTERN
from airside.problems import not_found
from airside.types import IsoDate
from lounge.flights import service
from lounge.flights.models import FlightPublic

router = APIRouter(prefix="/v1/flights", tags=["flights"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]


@router.get("/{flight_no}/{flight_date}")
async def get_flight(
    flight_no: Annotated[str, Path(pattern=FLIGHT_NO_PATTERN)], flight_date: IsoDate, session: SessionDep, principal: Staff
) -> FlightPublic:
    """The flight as lounge holds it; staff see flights from or to their stations."""
    flight = await service.get_flight(session=session, flight_no=flight_no, flight_date=flight_date)
    if flight is None or not (principal.covers(flight.origin) or principal.covers(flight.destination)):
        raise not_found("flight")
    return FlightPublic.model_validate(flight, from_attributes=True)

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from airside import conditional
from airside.auth import STAFF_ROLES, Principal, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.flight_numbers import FLIGHT_NO_PATTERN
from airside.problems import not_found
from airside.types import IsoDate
from lounge.flights import service
from lounge.flights.models import FlightPublic

router = APIRouter(prefix="/v1/flights", tags=["flights"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]


@router.get("/{flight_no}/{flight_date}", summary="Read a flight", response_model=FlightPublic, responses=CONDITIONAL_GET)
async def get_flight(
    flight_no: Annotated[str, Path(pattern=FLIGHT_NO_PATTERN)],
    flight_date: IsoDate,
    session: SessionDep,
    principal: Staff,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The flight as lounge holds it; staff see flights from or to their stations."""
    flight = await service.get_flight(session=session, flight_no=flight_no, flight_date=flight_date)
    if flight is None or not (principal.covers(flight.origin) or principal.covers(flight.destination)):
        raise not_found("flight")
    return conditional.answer(FlightPublic, FlightPublic.model_validate(flight, from_attributes=True), if_none_match)

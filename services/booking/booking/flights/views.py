"""Reading a flight; entering one or its status (which moves orders) is booking.flight_changes.views."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from airside import conditional
from airside.auth import CurrentUser
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.flight_numbers import FLIGHT_NO_PATTERN
from airside.types import IsoDate
from booking.flights import service
from booking.flights.models import Flight, FlightPublic

router = APIRouter(prefix="/v1/flights", tags=["flights"])

FlightNo = Annotated[str, Path(pattern=FLIGHT_NO_PATTERN, description="Carrier and number, e.g. CA1831 or 3U8888")]
FlightDate = Annotated[IsoDate, Path(description="The origin's local date")]


def flight_public(flight: Flight) -> FlightPublic:
    return FlightPublic.model_validate(flight.info().model_dump())


@router.get("/{flight_no}/{flight_date}", summary="Read a flight", response_model=FlightPublic, responses=CONDITIONAL_GET)
async def get_flight(
    flight_no: FlightNo, flight_date: FlightDate, session: SessionDep, _user: CurrentUser, if_none_match: IfNoneMatch = None
) -> Response:
    """One flight as booking knows it: route, times and status."""
    flight = await service.get_flight(session=session, flight_no=flight_no, flight_date=flight_date)
    return conditional.answer(FlightPublic, flight_public(flight), if_none_match)

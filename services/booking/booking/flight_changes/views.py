"""Ops enter a flight or its status: the flight record changes and its open orders follow (booking.flight_changes)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from airside import clock
from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.problems import Problem, forbidden
from booking.flight_changes.service import apply_flight_change
from booking.flights import service as flights
from booking.flights.models import FlightPublic, FlightStatusUpdate, FlightUpsert
from booking.flights.views import FlightDate, FlightNo, flight_public

router = APIRouter(prefix="/v1/flights", tags=["flights"])

UPSERT_ROLES = (Role.concierge_lead, Role.station_manager, Role.service)
STATUS_ROLES = (Role.concierge_lead, Role.station_manager, Role.service)


def _require_station(principal: Principal, origin: str, destination: str) -> None:
    """Staff enter flights that leave from or arrive at one of their stations."""
    if not (principal.covers(origin) or principal.covers(destination)):
        raise forbidden(f"you work at neither {origin} nor {destination}")


def _stale(flight_no: str) -> Problem:
    return Problem(409, "stale_status", f"booking already holds a newer status of {flight_no}")


@router.put("/{flight_no}/{flight_date}", summary="Enter or replace a flight")
async def upsert_flight(
    flight_no: FlightNo,
    flight_date: FlightDate,
    body: FlightUpsert,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(*UPSERT_ROLES))],
    idempotency: IdempotencyDep,
) -> FlightPublic:
    """Enter or replace a flight; a new status moves its open orders."""
    _require_station(principal, body.origin, body.destination)

    async def act() -> FlightPublic:
        fields = body.model_dump(exclude={"origin", "destination"}, exclude_unset=True)
        news = flights.FlightNews(flight_no, flight_date, body.origin, body.destination, fields, clock.now())
        change = await apply_flight_change(session=session, news=news)
        if change is None:
            raise _stale(flight_no)
        return flight_public(change.flight)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{flight_no}/{flight_date}/status", summary="Enter a flight status by hand")
async def enter_status(
    flight_no: FlightNo,
    flight_date: FlightDate,
    body: FlightStatusUpdate,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(*STATUS_ROLES))],
    idempotency: IdempotencyDep,
) -> FlightPublic:
    """Ops enter a status by hand; it is applied here and published like an airline system's."""
    flight = await flights.get_flight(session=session, flight_no=flight_no, flight_date=flight_date)
    _require_station(principal, flight.origin, flight.destination)

    async def act() -> FlightPublic:
        fields = body.model_dump(exclude={"reason", "updated_at"}, exclude_unset=True)
        fields["status"] = body.status
        known_at = body.updated_at or clock.now()
        news = flights.FlightNews(flight_no, flight_date, flight.origin, flight.destination, fields, known_at, body.reason)
        change = await apply_flight_change(session=session, news=news)
        if change is None:
            raise _stale(flight_no)
        return flight_public(change.flight)

    return await idempotency.execute(session, act)  # type: ignore[return-value]

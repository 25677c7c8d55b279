"""Flights as booking knows them: one code path for the ops routes, orders and airline events."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.events import flights as flight_events
from airside.events.common import FlightStatus
from airside.flight_numbers import split_flight_no
from airside.messaging.outbox import record
from airside.problems import not_found
from airside.statements import insert_ignoring_duplicates
from booking.flights.models import Flight

# The fields a status event may carry; an absent (or null) one keeps what booking holds.
CHANGEABLE = ("status", "std", "sta", "etd", "eta", "atd", "ata", "gate")
SOURCE = "airside/booking"


@dataclass(frozen=True)
class FlightNews:
    """What a source (ops, an order, an airline system) says of a flight, and when it knew it."""

    flight_no: str
    flight_date: date
    origin: str
    destination: str
    fields: dict[str, Any]
    updated_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class FlightChange:
    flight: Flight
    created: bool
    departure_shift: timedelta
    arrival_shift: timedelta
    newly_cancelled: bool


def _publish(session: AsyncSession, flight: Flight, reason: str | None = None) -> None:
    """Every flight booking creates or changes goes out on airside.flight.status, whole."""
    payload = flight_events.FlightStatusChanged.model_validate(
        {**flight.info().model_dump(), "status": flight.status, "updated_at": flight.updated_at, "reason": reason}
    )
    record(session, flight_events.flight_status, payload, subject=f"{flight.flight_no}/{flight.flight_date.isoformat()}", source=SOURCE)


async def get_flight(*, session: AsyncSession, flight_no: str, flight_date: date) -> Flight:
    flight = await session.get(Flight, (flight_no, flight_date))
    if flight is None:
        raise not_found("flight")
    return flight


async def apply_change(*, session: AsyncSession, news: FlightNews) -> FlightChange | None:
    """Create or change the flight record; None when the news is not newer than ours.

    Its open orders follow in booking.flight_changes, which calls this and then the orders' side.
    """
    flight_no, flight_date, updated_at = news.flight_no, news.flight_date, news.updated_at
    fields = {name: value.value if isinstance(value, FlightStatus) else value for name, value in news.fields.items()}
    fields = {name: value for name, value in fields.items() if name in CHANGEABLE and value is not None}
    created = False
    flight = await session.get(Flight, (flight_no, flight_date))
    if flight is None:
        carrier, number = split_flight_no(flight_no)
        row = {"flight_no": flight_no, "flight_date": flight_date, "carrier": carrier, "number": number, "origin": news.origin}
        created = await insert_ignoring_duplicates(
            session,
            Flight,
            {**row, "destination": news.destination, **fields, "updated_at": updated_at},
            index_elements=["flight_no", "flight_date"],
        )
        flight = await session.get(Flight, (flight_no, flight_date), populate_existing=True)
        assert flight is not None
    if created:
        old_departure = old_arrival = None
        was_cancelled = False
    else:
        if not flight_events.supersedes(updated_at, flight.updated_at):
            return None  # older or equal news, including booking's own echo
        old_departure, old_arrival, was_cancelled = flight.departure, flight.arrival, flight.cancelled
    for name, value in fields.items():
        setattr(flight, name, value)
    flight.updated_at = updated_at
    await session.flush()
    change = FlightChange(
        flight=flight,
        created=created,
        departure_shift=_shift(old_departure, flight.departure),
        arrival_shift=_shift(old_arrival, flight.arrival),
        newly_cancelled=flight.cancelled and not was_cancelled,
    )
    _publish(session, flight, news.reason)
    return change


def _shift(old: datetime | None, new: datetime | None) -> timedelta:
    if old is None or new is None:
        return timedelta(0)
    return new - old


async def ensure_flight(
    *, session: AsyncSession, flight_no: str, flight_date: date, origin: str, destination: str, std: datetime | None, sta: datetime | None
) -> Flight:
    """The flight an order names: known ones keep their schedule, filling only what they lack.

    Filling a time it lacked moves no order (there was no time to move from), so this is the record's own write.
    """
    flight = await session.get(Flight, (flight_no, flight_date))
    if flight is not None:
        missing = {name: value for name, value in (("std", std), ("sta", sta)) if value is not None and getattr(flight, name) is None}
        if missing:
            later = max(clock.now(), flight.updated_at + timedelta(microseconds=1))
            await apply_change(session=session, news=FlightNews(flight_no, flight_date, flight.origin, flight.destination, missing, later))
        return flight
    news = FlightNews(flight_no, flight_date, origin, destination, {"std": std, "sta": sta}, clock.now())
    change = await apply_change(session=session, news=news)
    if change is not None:
        return change.flight
    return await get_flight(session=session, flight_no=flight_no, flight_date=flight_date)  # a racing order created it

"""The flight copy: newest `updated_at` wins, an absent field means unchanged (docs/events.md)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import flights as flight_events
from airside.events.common import FlightInfo, FlightStatus
from airside.events.flights import FlightStatusChanged
from airside.statements import insert_ignoring_duplicates
from airside.types import known
from lounge.flights.models import CHANGEABLE, Flight

# A flight first learnt from an order snapshot yields to any real status that follows.
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FlightChange:
    flight: Flight
    old_departure: datetime | None


def _utc(value: Any) -> Any:
    """Airline systems should send UTC with an offset; a bare time is taken as UTC."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


async def apply_status(*, session: AsyncSession, flight_no: str, status: FlightStatusChanged) -> FlightChange | None:
    """Apply a status to the copy; None when it is older than what lounge holds.

    A status this release does not know changes no status (a new copy is scheduled), the rest applies:
    docs/events.md, Versioning."""
    updated_at = _utc(status.updated_at)
    fields: dict[str, Any] = {name: _utc(getattr(status, name)) for name in CHANGEABLE if name in status.model_fields_set}
    new_status = known(FlightStatus, status.status)
    flight = await session.get(Flight, (flight_no, status.flight_date))
    if flight is None:
        flight = Flight(
            flight_no=flight_no,
            flight_date=status.flight_date,
            carrier=status.carrier,
            number=status.number,
            origin=status.origin,
            destination=status.destination,
            status=(new_status or FlightStatus.scheduled).value,
            updated_at=updated_at,
            **fields,
        )
        session.add(flight)
        await session.flush()
        return FlightChange(flight=flight, old_departure=None)
    if not flight_events.supersedes(updated_at, flight.updated_at):
        return None  # not newer than the copy: ignored
    old_departure = flight.departure
    flight.origin, flight.destination, flight.updated_at = status.origin, status.destination, updated_at
    if new_status is not None:
        flight.status = new_status.value
    for name, value in fields.items():
        if value is not None:  # absent or null never clears
            setattr(flight, name, value)
    await session.flush()
    return FlightChange(flight=flight, old_departure=old_departure)


async def remember_from_order(*, session: AsyncSession, info: FlightInfo) -> None:
    """An order's snapshot carries its flight; keep it when no status has arrived yet (a flight held stays as it is)."""
    if not info.origin:
        return
    values = {
        "flight_no": info.flight_no,
        "flight_date": info.flight_date,
        "carrier": info.carrier,
        "number": info.number,
        "origin": info.origin,
        "destination": info.destination,
        "status": (known(FlightStatus, info.status) or FlightStatus.scheduled).value,
        "std": info.std,
        "etd": info.etd,
        "atd": info.atd,
        "sta": info.sta,
        "eta": info.eta,
        "ata": info.ata,
        "gate": info.gate,
        "updated_at": LONG_AGO,
    }
    await insert_ignoring_duplicates(session, Flight, values, index_elements=["flight_no", "flight_date"])


async def get_flight(*, session: AsyncSession, flight_no: str, flight_date: date) -> Flight | None:
    return await session.get(Flight, (flight_no, flight_date))

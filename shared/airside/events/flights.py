"""Flight status on AIRSIDE_FLIGHTS, published by airline systems and by booking (docs/events.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from airside import clock
from airside.events.common import FlightStatusValue
from airside.flight_numbers import CARRIER_PATTERN, NUMBER_PATTERN
from airside.messaging.envelope import CloudEvent, EventRefused, define
from airside.types import EventDateTime, IsoDate


class FlightStatusChanged(BaseModel):
    """An absent field means unchanged, never cleared; older `updated_at` than held is ignored."""

    carrier: str = Field(pattern=CARRIER_PATTERN)
    number: str = Field(pattern=NUMBER_PATTERN)
    flight_date: IsoDate
    origin: str = Field(pattern=r"^[A-Z]{3}$", description="IATA airport code")
    destination: str = Field(pattern=r"^[A-Z]{3}$", description="IATA airport code")
    status: FlightStatusValue
    updated_at: EventDateTime
    std: EventDateTime | None = None
    etd: EventDateTime | None = None
    atd: EventDateTime | None = None
    sta: EventDateTime | None = None
    eta: EventDateTime | None = None
    ata: EventDateTime | None = None
    gate: str | None = None
    reason: str | None = None

    @property
    def flight_no(self) -> str:
        """Always a flight number: the carrier and number patterns are the parts of airside.flight_numbers'."""
        return f"{self.carrier}{self.number}"


flight_status = define(
    "airside.flight.status", FlightStatusChanged, "A flight's schedule or status, from an airline system or booking.", producer="airline"
)
# A realistic payload, for the AsyncAPI document's message example (validated when it is written).
EXAMPLES: dict[str, dict[str, Any]] = {
    flight_status.type: {
        "carrier": "CA",
        "number": "1831",
        "flight_date": "2026-12-24",
        "origin": "PEK",
        "destination": "KMG",
        "status": "delayed",
        "updated_at": "2026-12-23T21:05:00Z",
        "std": "2026-12-24T01:40:00Z",
        "etd": "2026-12-24T02:40:00Z",
        "sta": "2026-12-24T05:05:00Z",
        "eta": "2026-12-24T06:05:00Z",
        "gate": "E21",
        "reason": "Late inbound aircraft",
    }
}


# A source's clock or time zone can be wrong. The copies keep the newest `updated_at`, so a status
# stamped far ahead would outrank every real status after it and freeze the flight: it is refused.
MAX_AHEAD = timedelta(days=1)


class StatusFromTheFuture(EventRefused):
    """A flight status whose `updated_at` lies more than MAX_AHEAD after the receiver's clock."""


def checked_updated_at(updated_at: datetime) -> datetime:
    """`updated_at` in UTC (a bare time is taken as UTC); refused when it lies more than a day ahead."""
    stamp = updated_at.replace(tzinfo=UTC) if updated_at.tzinfo is None else updated_at.astimezone(UTC)
    now = clock.now()
    if stamp - now > MAX_AHEAD:
        raise StatusFromTheFuture(
            f"updated_at {stamp.isoformat()} lies more than {MAX_AHEAD.days} day ahead of now ({now.isoformat()}): "
            "it would outrank every later status of the flight"
        )
    return stamp


def supersedes(news: datetime, held: datetime) -> bool:
    """Whether a status stamped `news` replaces a copy stamped `held`, in every copy of a flight: only a
    strictly newer one. An equal stamp is the same news again (a redelivery, booking's own echo), or two
    sources at one instant, which every copy then settles the same way, for the one it took first."""
    return news > held


def received_status(event: CloudEvent) -> FlightStatusChanged:
    """The status an event carries, as every consumer of flight status takes it (refused ones are parked at once)."""
    status = flight_status.parse(event)
    checked_updated_at(status.updated_at)
    return status

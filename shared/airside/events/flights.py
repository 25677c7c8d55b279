"""Flight status on AIRSIDE_FLIGHTS, published by airline systems and by booking (events.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from airside.events.common import FlightStatus
from airside.messaging.envelope import define


class FlightStatusChanged(BaseModel):
    """An absent field means unchanged, never cleared; older `updated_at` than held is ignored."""

    carrier: str = Field(pattern=r"^[A-Z0-9]{2}$")
    number: str = Field(pattern=r"^\d{1,4}[A-Z]?$")
    flight_date: date
    origin: str = Field(pattern=r"^[A-Z]{3}$", description="IATA airport code")
    destination: str = Field(pattern=r"^[A-Z]{3}$", description="IATA airport code")
    status: FlightStatus
    updated_at: datetime
    std: datetime | None = None
    etd: datetime | None = None
    atd: datetime | None = None
    sta: datetime | None = None
    eta: datetime | None = None
    ata: datetime | None = None
    gate: str | None = None
    reason: str | None = None


flight_status = define(
    "airside.flight.status", FlightStatusChanged, "A flight's schedule or status, from an airline system or booking.", producer="airline"
)

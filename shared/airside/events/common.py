"""Value types shared by the payloads of several services."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from airside.types import EventDateTime, IsoDate


class Tier(StrEnum):
    standard = "standard"
    gold = "gold"
    platinum = "platinum"
    vip = "vip"


class Money(BaseModel):
    amount_minor: int
    currency: str = "CNY"


class FlightStatus(StrEnum):
    scheduled = "scheduled"
    delayed = "delayed"
    boarding = "boarding"
    departed = "departed"
    arrived = "arrived"
    cancelled = "cancelled"


class FlightInfo(BaseModel):
    """A flight as booking knows it; times UTC, `flight_date` the origin's local date."""

    flight_no: str
    carrier: str
    number: str
    flight_date: IsoDate
    origin: str
    destination: str
    std: EventDateTime | None = None
    sta: EventDateTime | None = None
    etd: EventDateTime | None = None
    eta: EventDateTime | None = None
    atd: EventDateTime | None = None
    ata: EventDateTime | None = None
    status: FlightStatus = FlightStatus.scheduled
    gate: str | None = None
    updated_at: EventDateTime | None = None


class Person(BaseModel):
    id: str
    name: str


class Passenger(BaseModel):
    name: str
    ssr: list[str] = Field(default_factory=list)

"""Value types shared by the payloads of several services."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from airside.types import EventDateTime, IsoDate, OpenEnum


class Tier(StrEnum):
    standard = "standard"
    gold = "gold"
    platinum = "platinum"
    vip = "vip"


# As event payloads carry them: a consumer keeps a value it does not know yet (docs/events.md, Versioning).
TierValue = Annotated[Tier | str, OpenEnum(Tier)]


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


FlightStatusValue = Annotated[FlightStatus | str, OpenEnum(FlightStatus)]


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
    status: FlightStatusValue = FlightStatus.scheduled
    gate: str | None = None
    updated_at: EventDateTime | None = None


class Person(BaseModel):
    id: str
    name: str


class Passenger(BaseModel):
    name: str
    ssr: list[str] = Field(default_factory=list)

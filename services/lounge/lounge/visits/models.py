from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import Index, false
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events.common import FlightStatus
from airside.events.lounge import EntryPayer
from airside.flight_numbers import CARRIER_PATTERN, NUMBER_PATTERN
from airside.types import IsoDate


class VisitStatus(StrEnum):
    checked_in = "checked_in"
    checked_out = "checked_out"


class Entitlement(StrEnum):
    order = "order"
    tier = "tier"
    carrier = "carrier"  # the boarding pass falls under the operating carrier's contract
    paid = "paid"


class Payer(StrEnum):
    """Who pays for the entry: the member (their order or tier, or their day pass), the carrier under its
    contract, or a walk-in guest. NULL on visits from before carriers (docs/lounge.md)."""

    member = "member"
    carrier = "carrier"
    guest = "guest"


class Visit(SQLModel, table=True):
    __table_args__ = (
        Index("ix_visit_due_calls", "status", "boarding_call_at"),
        Index("ix_visit_flight", "flight_no", "flight_date", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    lounge_id: str = Field(max_length=40, index=True)
    station: str = Field(max_length=3)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    order_id: str | None = Field(default=None, max_length=36, index=True)
    passenger_name: str | None = Field(default=None, max_length=100)
    flight_no: str = Field(max_length=8)
    flight_date: date
    guests: int = Field(ge=0)
    free_guests: int = Field(ge=0)
    entitlement: str = Field(max_length=10)
    status: str = Field(max_length=20)
    checked_in_at: datetime = Field(sa_type=UtcDateTime)
    checked_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    boarding_call_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The boarding call time a `boarding_call_due` was sent for: claimed with a conditional UPDATE.
    boarding_call_sent_for: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # member (or walk-in name) + flight while the visit is open, NULL after: one open visit each.
    open_key: str | None = Field(default=None, max_length=200, unique=True)
    bill_id: str = Field(max_length=36)
    version: int = 1
    payer: str | None = Field(default=None, max_length=10)  # a Payer
    # A carrier-paid visit: the contract and the term in force at check-in, never re-read afterwards.
    carrier: str | None = Field(default=None, max_length=3)
    contract_id: str | None = Field(default=None, max_length=64)
    contract_version: int | None = None
    rate_minor: int | None = None
    currency: str | None = Field(default=None, max_length=3)
    cabin: str | None = Field(default=None, max_length=1)
    guests_carrier_paid: int | None = None
    guests_billed: int | None = None
    # Entered on the carrier's frequent-flyer tier (docs/lounge.md): the tier the desk read and the pass's number.
    frequent_flyer_tier: str | None = Field(default=None, max_length=30)
    frequent_flyer_number: str | None = Field(default=None, max_length=16)
    complimentary_menu: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class LoungeOccupancy(SQLModel, table=True):
    """One counter row per lounge; check-ins raise it only while it stays within capacity."""

    __tablename__ = "lounge_occupancy"

    lounge_id: str = Field(primary_key=True, max_length=40)
    occupied: int = Field(default=0, ge=0)


class FlightRef(BaseModel):
    carrier: str = Field(schema_extra={"pattern": CARRIER_PATTERN})
    number: str = Field(schema_extra={"pattern": NUMBER_PATTERN})
    flight_date: IsoDate


def _trimmed(value: str) -> str:
    if not value.strip():
        raise ValueError("the tier is blank")
    return value.strip()


# The tier the desk reads off the member's card or app: a boarding pass carries the number, not the tier.
FrequentFlyerTier = Annotated[str, StringConstraints(min_length=1, max_length=30), AfterValidator(_trimmed)]


class CheckIn(BaseModel):
    """One of: an order; a member with their flight; a scanned boarding pass (optionally with the member)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71", "guests": 1}]})

    order_id: str | None = Field(default=None, min_length=1, max_length=36)
    member_id: str | None = Field(default=None, min_length=1, max_length=36)
    flight: FlightRef | None = None
    boarding_pass: str | None = Field(default=None, min_length=1, max_length=2000)
    guests: int | None = Field(default=None, ge=0, le=20)
    frequent_flyer_tier: FrequentFlyerTier | None = Field(
        default=None,
        description="With boarding_pass: the carrier's frequent-flyer tier as the member card or app shows it (e.g. Platinum); "
        "it entitles when the pass carries that carrier's frequent-flyer number and the contract covers the tier",
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> "CheckIn":
        ways = sum((self.order_id is not None, self.boarding_pass is not None, self.flight is not None))
        if ways != 1:
            raise ValueError("send exactly one of order_id, member_id with flight, or boarding_pass")
        if self.flight is not None and self.member_id is None:
            raise ValueError("flight needs member_id")
        if self.order_id is not None and self.member_id is not None:
            raise ValueError("order_id identifies the member already")
        if self.frequent_flyer_tier is not None and self.boarding_pass is None:
            raise ValueError("frequent_flyer_tier goes with boarding_pass, whose frequent-flyer number it is matched with")
        return self


class Checkout(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"payment_method": "card"}]})

    payment_method: str | None = Field(default=None, schema_extra={"pattern": "^(cash|card|member_account)$"})


class VisitFlight(BaseModel):
    flight_no: str
    flight_date: date
    origin: str | None = None
    destination: str | None = None
    std: datetime | None = None
    etd: datetime | None = None
    atd: datetime | None = None
    gate: str | None = None
    status: FlightStatus | None = None


VISIT_EXAMPLE = {
    "id": "8e2b5d7f-3a1c-4f6e-9d8b-7c5a3e1f2b4d",
    "lounge_id": "pek-t3-first",
    "station": "PEK",
    "status": "checked_in",
    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
    "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
    "passenger_name": "Li Wei",
    "guests": 1,
    "free_guests": 1,
    "flight": {
        "flight_no": "CA1501",
        "flight_date": "2026-12-24",
        "origin": "PEK",
        "destination": "KMG",
        "std": "2026-12-24T00:30:00Z",
        "gate": "E12",
        "status": "scheduled",
    },
    "entitlement": "order",
    "boarding_call_at": "2026-12-23T23:45:00Z",
    "bill_id": "4c7e9a1b-2d3f-4b5c-8e6a-1f0d9c8b7a6e",
    "checked_in_at": "2026-12-23T22:50:00Z",
    "checked_out_at": None,
    "version": 1,
    "payer": "member",
}


class VisitPublic(EntryPayer):
    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_EXAMPLE]})

    id: str
    lounge_id: str
    station: str
    status: VisitStatus
    member_id: str | None
    order_id: str | None
    passenger_name: str | None
    guests: int
    free_guests: int
    flight: VisitFlight
    entitlement: Entitlement
    boarding_call_at: datetime | None
    bill_id: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    version: int
    payer: Payer | None = None  # typed here; the event carries it as a string (a tolerant reader)


class Occupancy(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"capacity": 120, "occupied": 87, "available": 33}]})

    capacity: int
    occupied: int
    available: int


class BoardRow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visit_id": "8e2b5d7f-3a1c-4f6e-9d8b-7c5a3e1f2b4d",
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "name": "Li Wei",
                    "guests": 1,
                    "flight": VISIT_EXAMPLE["flight"],
                    "boarding_call_at": "2026-12-23T23:45:00Z",
                    "boarding_call_sent": False,
                }
            ]
        }
    )

    visit_id: str
    member_id: str | None
    name: str | None
    guests: int
    flight: VisitFlight
    boarding_call_at: datetime | None
    boarding_call_sent: bool


class BoardingPassScan(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"boarding_pass": "M1LI/WEI              EABC123 PEKKMGCA 1501 358Y012A0042 100"}]}
    )

    boarding_pass: str = Field(min_length=1, max_length=2000, description="The scanned barcode (IATA BCBP, format M)")


class ScannedLeg(BaseModel):
    """One leg as check-in reads it; `flight_date` is inferred from the day of year and today at the origin."""

    model_config = ConfigDict(populate_by_name=True)

    pnr: str
    origin: str = Field(alias="from")
    destination: str = Field(alias="to")
    carrier: str
    number: str
    flight_no: str
    day_of_year: int
    flight_date: date
    compartment: str | None
    seat: str | None
    sequence: str | None
    passenger_status: str
    frequent_flyer_airline: str | None = None
    frequent_flyer_number: str | None = None


class ScannedBoardingPass(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "passenger_name": "LI/WEI",
                    "electronic_ticket": True,
                    "legs": [
                        {
                            "pnr": "ABC123",
                            "from": "PEK",
                            "to": "KMG",
                            "carrier": "CA",
                            "number": "1501",
                            "flight_no": "CA1501",
                            "day_of_year": 358,
                            "flight_date": "2026-12-24",
                            "compartment": "Y",
                            "seat": "012A",
                            "sequence": "0042",
                            "passenger_status": "1",
                        }
                    ],
                }
            ]
        }
    )

    passenger_name: str
    electronic_ticket: bool
    legs: list[ScannedLeg]

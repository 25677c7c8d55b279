import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Index, Integer
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.events.booking import FeesCollected, OrderSnapshot, OrderStatus
from airside.events.common import Money
from airside.flight_numbers import CARRIER_PATTERN, NUMBER_PATTERN
from airside.types import IsoDate, IsoDateTime, PersonName, StationCode
from booking.carriers.models import PayerIn
from booking.flights.models import AIRPORT_PATTERN, FLIGHT_EXAMPLE

FeesMethod = Literal["cash", "card", "member_account"]
SsrCode = Literal["WCHR", "WCHS", "WCHC", "BLND", "DEAF", "DPNA", "UMNR", "MEDA", "MAAS"]


class Direction(StrEnum):
    departure = "departure"
    arrival = "arrival"
    transfer = "transfer"


class Channel(StrEnum):
    app = "app"
    web = "web"
    call_center = "call_center"
    sales_office = "sales_office"
    partner = "partner"


MEMBER_CHANNELS = frozenset({Channel.app, Channel.web})


class Order(SQLModel, table=True):
    __tablename__ = "service_order"
    __table_args__ = (
        Index("ix_service_order_station_meet", "station", "meet_at", "id"),
        Index("ix_service_order_flight", "flight_no", "flight_date"),
        Index("ix_service_order_concierge", "concierge_id", "status"),
        Index("ix_service_order_overdue", "status", "overdue_notified_at", "confirm_by"),
        Index("ix_service_order_member", "member_id", "meet_at"),
        Index("ix_service_order_payer_carrier", "payer_carrier", "meet_at", "id"),  # a carrier's listing (GET /v1/orders)
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    ref: str = Field(max_length=12, unique=True)
    version: int = 1
    member_id: str = Field(max_length=36)
    station: str = Field(max_length=3)
    status: str = Field(default="requested", max_length=20)
    direction: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    flight_no: str = Field(max_length=8)
    flight_date: date
    items: list[dict[str, Any]] = Field(sa_type=JSON)
    passengers: list[dict[str, Any]] = Field(sa_type=JSON)
    meet_at: datetime = Field(sa_type=UtcDateTime)
    meet_at_given: bool = Field(default=False, description="The booker chose meet_at; else it follows the flight")
    staff_report_at: datetime = Field(sa_type=UtcDateTime)
    confirm_by: datetime = Field(sa_type=UtcDateTime)
    service_end_at: datetime = Field(sa_type=UtcDateTime, description="End of the service window")
    service_minutes: int = Field(default=0, description="Longest item duration")
    meeting_point: str | None = Field(default=None, max_length=200)
    checked_bags: int | None = None
    seat_preference: str | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=2000)
    concierge_id: str | None = Field(default=None, max_length=36)
    source_ticket_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(default="CNY", max_length=3)
    price_minor: int
    late_fee_minor: int = 0
    cancellation_fee_minor: int | None = None
    cancel_reason: str | None = Field(default=None, max_length=500)
    no_show_fee_minor: int | None = None
    fees_collected_minor: int | None = None
    fees_method: str | None = Field(default=None, max_length=20)
    # Who pays when not the member: {carrier, contract_id, contract_version, rates} (docs/carriers.md "Partner orders").
    payer: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # payer's carrier as a plain column, written with payer (rules.partner_values): what a carrier token sees and lists.
    payer_carrier: str | None = Field(default=None, max_length=2)
    overdue_notified_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def products(self) -> list[str]:
        return [item["product"] for item in self.items]


class OrderHistory(SQLModel, table=True):
    __tablename__ = "service_order_history"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    order_id: str = Field(max_length=36, index=True)
    version: int
    action: str = Field(max_length=40)
    status: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    at: datetime = Field(sa_type=UtcDateTime)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


# --- request bodies ---------------------------------------------------------------------------


class FlightRef(BaseModel):
    carrier: str = PydanticField(pattern=CARRIER_PATTERN, description="2 letters or digits: CA, 3U")
    number: str = PydanticField(pattern=NUMBER_PATTERN, description="1-4 digits and an optional suffix letter")
    flight_date: IsoDate = PydanticField(description="The origin's local date")
    origin: str = PydanticField(pattern=AIRPORT_PATTERN)
    destination: str = PydanticField(pattern=AIRPORT_PATTERN)
    std: IsoDateTime | None = None
    sta: IsoDateTime | None = None

    @property
    def flight_no(self) -> str:
        return self.carrier + self.number


class ItemIn(BaseModel):
    product: str = PydanticField(pattern=r"^[A-Z][A-Z0-9_]{1,29}$")


class PassengerIn(BaseModel):
    name: PersonName
    ssr: list[SsrCode] = PydanticField(default_factory=list, max_length=9)


Items = list[ItemIn]
Passengers = list[PassengerIn]


class OrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "station": "PEK",
                    "direction": "departure",
                    "flight": {"carrier": "CA", "number": "1501", "flight_date": "2026-12-24", "origin": "PEK", "destination": "KMG"},
                    "items": [{"product": "DEP_ESCORT"}],
                    "passengers": [{"name": "Li Wei"}],
                    "channel": "app",
                }
            ]
        }
    )

    member_id: str = PydanticField(min_length=1, max_length=36)
    station: StationCode
    direction: Direction
    flight: FlightRef
    items: Items = PydanticField(min_length=1, max_length=6)
    passengers: Passengers = PydanticField(min_length=1, max_length=9)
    meet_at: IsoDateTime | None = None
    meeting_point: str | None = PydanticField(default=None, max_length=200)
    checked_bags: int | None = PydanticField(default=None, ge=0, le=50)
    seat_preference: str | None = PydanticField(default=None, max_length=50)
    notes: str | None = PydanticField(default=None, max_length=2000)
    channel: Channel
    source_ticket_id: str | None = PydanticField(default=None, max_length=64)
    payer: PayerIn | None = PydanticField(default=None, description="A partner order's paying carrier; priced at its contract's rates")


class OrderUpdate(BaseModel):
    """A change while requested, confirmed or assigned; absent fields stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"meet_at": "2026-12-24T06:30:00+08:00", "meeting_point": "Terminal 3, door 11", "checked_bags": 2}]
        }
    )

    flight: FlightRef | None = None
    items: Items | None = PydanticField(default=None, min_length=1, max_length=6)
    passengers: Passengers | None = PydanticField(default=None, min_length=1, max_length=9)
    meet_at: IsoDateTime | None = None
    meeting_point: str | None = PydanticField(default=None, max_length=200)
    checked_bags: int | None = PydanticField(default=None, ge=0, le=50)
    seat_preference: str | None = PydanticField(default=None, max_length=50)
    notes: str | None = PydanticField(default=None, max_length=2000)


class ConfirmBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"notes": "Passenger asked for a Mandarin-speaking concierge"}]})

    notes: str | None = PydanticField(default=None, max_length=2000)


class AssignBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"concierge_id": "3c9a7d2e-1f4b-4e8a-b6d5-9e0f1a2b3c4d"}]})

    concierge_id: str = PydanticField(min_length=1, max_length=36)


class FeesIn(BaseModel):
    amount_minor: int = PydanticField(ge=0, le=100_000_000)
    currency: Literal["CNY"] = "CNY"
    method: FeesMethod


class CompleteBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"fees_collected": {"amount_minor": 5000, "currency": "CNY", "method": "card"}}]}
    )

    fees_collected: FeesIn | None = None


class NoShowBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact_attempts": 3, "notes": "No answer on the phone; waited 30 minutes at door 11"}]}
    )

    contact_attempts: int = PydanticField(ge=0, le=100)
    notes: str = PydanticField(min_length=1, max_length=2000)


class CancelBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Flight cancelled by the airline"}]})

    reason: str = PydanticField(min_length=1, max_length=500)


# --- responses --------------------------------------------------------------------------------


class FeesCollectedPublic(FeesCollected):
    method: FeesMethod


class OrderPublic(OrderSnapshot):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                    "ref": "PEK-20261224-0001",
                    "version": 1,
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "station": "PEK",
                    "status": "requested",
                    "direction": "departure",
                    "channel": "app",
                    "flight": FLIGHT_EXAMPLE,
                    "items": [{"product": "DEP_ESCORT"}],
                    "passengers": [{"name": "Li Wei", "ssr": []}],
                    "meet_at": "2026-12-23T22:30:00Z",
                    "staff_report_at": "2026-12-23T22:15:00Z",
                    "confirm_by": "2026-12-23T10:30:00Z",
                    "meeting_point": "Terminal 3, door 11",
                    "price": {"amount_minor": 20000, "currency": "CNY"},
                    "service_end_at": "2026-12-24T00:00:00Z",
                    "created_at": "2026-12-01T02:20:00Z",
                }
            ]
        }
    )

    # The event snapshot keeps plain strings (a tolerant reader in the other services); the API names its values.
    status: OrderStatus
    direction: Direction
    channel: Channel | None = None
    checked_bags: int | None = None
    seat_preference: str | None = None
    notes: str | None = None
    service_end_at: datetime
    late_fee: Money | None = None
    cancellation_fee: Money | None = None
    cancel_reason: str | None = None
    no_show_fee: Money | None = None
    fees_collected: FeesCollectedPublic | None = None
    created_at: datetime


class HistoryEntry(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 2,
                    "action": "confirm",
                    "status": "confirmed",
                    "actor": "wang.fang",
                    "at": "2026-12-01T03:00:00Z",
                    "details": {"notes": "Passenger asked for a Mandarin-speaking concierge"},
                }
            ]
        }
    )

    version: int
    action: str
    status: OrderStatus
    actor: str
    at: datetime
    details: dict[str, Any]

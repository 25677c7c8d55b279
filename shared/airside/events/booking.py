"""Events booking emits on AIRSIDE_BOOKING (docs/booking.md)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from airside.events.common import FlightInfo, Money, Passenger, Person, Tier
from airside.messaging.envelope import define
from airside.types import EventDateTime

PRODUCER = "booking"


class StationUpserted(BaseModel):
    code: str
    name: str
    timezone: str


# The statuses booking's snapshots carry, as the three services' answers type them. The events keep
# strings, so a consumer never refuses a value it does not know yet.


class MemberStatus(StrEnum):
    """One value today; the services store it as a string, so a new one needs no migration."""

    active = "active"


class OrderStatus(StrEnum):
    """Where an order stands in booking's status machine (docs/booking.md); every copy carries it as is."""

    requested = "requested"
    confirmed = "confirmed"
    assigned = "assigned"
    in_service = "in_service"
    in_lounge = "in_lounge"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"


class MemberSnapshot(BaseModel):
    id: str
    card_no: str
    name: str
    phone: str
    tier: Tier
    email: str | None = None
    status: str = MemberStatus.active.value  # a string: a tolerant reader (docs/http.md "Enums")
    version: int
    updated_at: EventDateTime


class MemberEvent(BaseModel):
    member: MemberSnapshot


class OrderItem(BaseModel):
    product: str


class OrderSnapshot(BaseModel):
    id: str
    ref: str
    version: int
    member_id: str
    station: str
    status: str  # one of OrderStatus, read as a string: a tolerant reader (docs/http.md "Enums")
    direction: str
    channel: str | None = None
    flight: FlightInfo
    items: list[OrderItem]
    passengers: list[Passenger]
    meet_at: EventDateTime
    staff_report_at: EventDateTime
    confirm_by: EventDateTime
    meeting_point: str | None = None
    concierge: Person | None = None
    source_ticket_id: str | None = None
    price: Money
    updated_at: EventDateTime | None = None


class OrderEvent(BaseModel):
    order: OrderSnapshot


class FeesCollected(BaseModel):
    amount_minor: int
    currency: str = "CNY"
    method: str


class OrderCompleted(OrderEvent):
    fees_collected: FeesCollected | None = None


class OrderInLounge(OrderEvent):
    visit_id: str | None = None


class OrderNoShow(OrderEvent):
    contact_attempts: int = 0
    notes: str | None = None
    fee: Money | None = None


class OrderCancelled(OrderEvent):
    reason: str | None = None
    cancellation_fee: Money | None = None


class OrderRescheduled(OrderEvent):
    old_meet_at: EventDateTime
    new_meet_at: EventDateTime
    delay_minutes: int


class OrderReassignmentNeeded(OrderEvent):
    previous_concierge: Person | None = None
    reason: str | None = None


class OrderFlightDisrupted(OrderEvent):
    delay_minutes: int
    cancelled: bool


station_upserted = define(
    "airside.booking.station.upserted", StationUpserted, "A station was created or changed; carries its time zone.", producer=PRODUCER
)
member_registered = define(
    "airside.booking.member.registered", MemberEvent, "A member was registered; the whole member with version.", producer=PRODUCER
)
member_updated = define(
    "airside.booking.member.updated", MemberEvent, "A member changed; the whole member with version.", producer=PRODUCER
)
order_created = define("airside.booking.order.created", OrderEvent, "A service order was requested.", producer=PRODUCER)
order_confirmed = define("airside.booking.order.confirmed", OrderEvent, "The confirmation call with the member is done.", producer=PRODUCER)
order_assigned = define("airside.booking.order.assigned", OrderEvent, "A concierge was assigned to the order.", producer=PRODUCER)
order_started = define("airside.booking.order.started", OrderEvent, "The concierge met the member.", producer=PRODUCER)
order_in_lounge = define("airside.booking.order.in_lounge", OrderInLounge, "The order's visit checked in at the lounge.", producer=PRODUCER)
order_completed = define(
    "airside.booking.order.completed", OrderCompleted, "The service was completed, with fees collected on site.", producer=PRODUCER
)
order_no_show = define("airside.booking.order.no_show", OrderNoShow, "The member did not show up.", producer=PRODUCER)
order_cancelled = define(
    "airside.booking.order.cancelled", OrderCancelled, "The order was cancelled, with its cancellation fee.", producer=PRODUCER
)
order_changed = define("airside.booking.order.changed", OrderEvent, "The order changed (or a snapshot re-announced).", producer=PRODUCER)
order_rescheduled = define(
    "airside.booking.order.rescheduled", OrderRescheduled, "The order's times moved with its flight.", producer=PRODUCER
)
order_reassignment_needed = define(
    "airside.booking.order.reassignment_needed", OrderReassignmentNeeded, "A reschedule unassigned the concierge.", producer=PRODUCER
)
order_flight_disrupted = define(
    "airside.booking.order.flight_disrupted",
    OrderFlightDisrupted,
    "The order's flight is delayed 60 minutes or more, or cancelled.",
    producer=PRODUCER,
)
order_confirmation_overdue = define(
    "airside.booking.order.confirmation_overdue", OrderEvent, "The order is still unconfirmed at confirm_by.", producer=PRODUCER
)

"""Events booking emits on AIRSIDE_BOOKING (docs/booking.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from airside.events.common import FlightInfo, Money, Passenger, Person, TierValue
from airside.messaging.envelope import define
from airside.types import EventDateTime

PRODUCER = "booking"


class StationUpserted(BaseModel):
    code: str
    name: str
    timezone: str
    version: int = 1  # one more at every change; events from before it was sent carry none


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
    tier: TierValue
    email: str | None = None
    status: str = MemberStatus.active.value  # a string: a tolerant reader (docs/http.md "Enums")
    version: int
    updated_at: EventDateTime


class MemberEvent(BaseModel):
    member: MemberSnapshot


class OrderItem(BaseModel):
    product: str


class PayerRate(BaseModel):
    product: str
    rate_minor: int


class OrderPayer(BaseModel):
    """A partner order's payer: the carrier, and the contract term whose rates priced it (docs/carriers.md)."""

    carrier: str
    contract_id: str
    contract_version: int
    rates: list[PayerRate]


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
    payer: OrderPayer | None = None  # absent: the member pays


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


# One realistic payload per event, for the AsyncAPI document's message examples (validated when it is written).
_MEMBER = {
    "id": "6e2d9a41-8c3b-4f7e-b1a5-3d0c7f9e2b18",
    "card_no": "CA-0042",
    "name": "Zhang Min",
    "phone": "+8613912345678",
    "tier": "gold",
    "email": "zhang.min@example.com",
    "status": "active",
    "version": 1,
    "updated_at": "2026-12-01T02:10:00Z",
}
_ORDER = {
    "id": "a3c8e1f4-2b7d-4e9a-8f6c-1d5b0e3a9c24",
    "ref": "PEK-7KQ2MX",
    "version": 1,
    "member_id": _MEMBER["id"],
    "station": "PEK",
    "status": "requested",
    "direction": "departure",
    "channel": "app",
    "flight": {
        "flight_no": "CA1831",
        "carrier": "CA",
        "number": "1831",
        "flight_date": "2026-12-24",
        "origin": "PEK",
        "destination": "KMG",
        "std": "2026-12-24T01:40:00Z",
        "sta": "2026-12-24T05:05:00Z",
        "status": "scheduled",
        "gate": "E21",
    },
    "items": [{"product": "DEP_ESCORT"}],
    "passengers": [{"name": "Zhang Min", "ssr": ["WCHR"]}],
    "meet_at": "2026-12-23T22:30:00Z",
    "staff_report_at": "2026-12-23T22:15:00Z",
    "confirm_by": "2026-12-23T10:30:00Z",
    "meeting_point": "Terminal 3, door 11",
    "price": {"amount_minor": 20000, "currency": "CNY"},
    "updated_at": "2026-12-01T02:20:00Z",
}
_CONCIERGE = {"id": "c2a9e4d1-3b6f-4f0a-8e2d-9b1c7a5e6f20", "name": "Wang Fang"}


def _order(status: str, version: int, **changes: Any) -> dict[str, Any]:
    return {**_ORDER, "status": status, "version": version, **changes}


_ASSIGNED = _order("assigned", 3, concierge=_CONCIERGE)
EXAMPLES: dict[str, dict[str, Any]] = {
    station_upserted.type: {"code": "PEK", "name": "Beijing Capital", "timezone": "Asia/Shanghai"},
    member_registered.type: {"member": _MEMBER},
    member_updated.type: {"member": {**_MEMBER, "tier": "platinum", "version": 2, "updated_at": "2026-12-05T08:00:00Z"}},
    order_created.type: {"order": _ORDER},
    order_confirmed.type: {"order": _order("confirmed", 2)},
    order_assigned.type: {"order": _ASSIGNED},
    order_started.type: {"order": _order("in_service", 4, concierge=_CONCIERGE)},
    order_in_lounge.type: {"order": _order("in_lounge", 5, concierge=_CONCIERGE), "visit_id": "9d4e2b7a-1c3f-4a8e-b6d0-5f2a8c1e7b43"},
    order_completed.type: {
        "order": _order("completed", 6, concierge=_CONCIERGE),
        "fees_collected": {"amount_minor": 5000, "currency": "CNY", "method": "card"},
    },
    order_no_show.type: {
        "order": _order("no_show", 4, concierge=_CONCIERGE),
        "contact_attempts": 3,
        "notes": "No answer on the member's phone; waited 30 minutes at door 11",
        "fee": {"amount_minor": 10000, "currency": "CNY"},
    },
    order_cancelled.type: {
        "order": _order("cancelled", 3),
        "reason": "Flight cancelled by the airline",
        "cancellation_fee": {"amount_minor": 0, "currency": "CNY"},
    },
    order_changed.type: {"order": _order("confirmed", 3, meeting_point="Terminal 3, door 9")},
    order_rescheduled.type: {
        "order": _order("assigned", 4, concierge=_CONCIERGE, meet_at="2026-12-23T23:30:00Z", staff_report_at="2026-12-23T23:15:00Z"),
        "old_meet_at": "2026-12-23T22:30:00Z",
        "new_meet_at": "2026-12-23T23:30:00Z",
        "delay_minutes": 60,
    },
    order_reassignment_needed.type: {
        "order": _order("confirmed", 5, meet_at="2026-12-24T02:30:00Z"),
        "previous_concierge": _CONCIERGE,
        "reason": "The concierge's shift ends before the new meeting time",
    },
    order_flight_disrupted.type: {"order": _ASSIGNED, "delay_minutes": 90, "cancelled": False},
    order_confirmation_overdue.type: {"order": _ORDER},
}

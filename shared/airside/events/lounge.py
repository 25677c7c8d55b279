"""Events lounge emits on AIRSIDE_LOUNGE (docs/lounge.md)."""

from __future__ import annotations

from pydantic import BaseModel

from airside.messaging.envelope import define
from airside.types import EventDateTime, IsoDate

PRODUCER = "lounge"


class VisitSnapshot(BaseModel):
    id: str
    version: int
    lounge_id: str
    station: str
    member_id: str | None = None
    order_id: str | None = None
    flight_no: str
    flight_date: IsoDate
    guests: int
    entitlement: str
    status: str
    checked_in_at: EventDateTime
    checked_out_at: EventDateTime | None = None
    boarding_call_at: EventDateTime | None = None


class VisitEvent(BaseModel):
    visit: VisitSnapshot


class VisitFlightChanged(VisitEvent):
    new_etd: EventDateTime | None = None
    delay_minutes: int


class SoldItem(BaseModel):
    """What a sale line sold, as the event, the bill and the daily sales list all show it; money in minor units."""

    sku: str
    name: str
    category: str
    qty: int
    unit_price_minor: int
    amount_minor: int  # what the guest pays: 0 for a complimentary line
    complimentary: bool


SOLD_ITEM_FIELDS = frozenset(SoldItem.model_fields)


class SaleLine(SoldItem):
    line_id: str


class SaleCompleted(BaseModel):
    visit: VisitSnapshot
    bill_id: str
    lines: list[SaleLine]
    total_minor: int
    complimentary_minor: int
    payment_method: str | None = None


class SaleVoided(BaseModel):
    visit_id: str
    line: SaleLine
    reason: str


class StockLow(BaseModel):
    lounge_id: str
    station: str
    sku: str
    on_hand: int
    reorder_point: int
    reorder_qty: int


class StockCountLine(BaseModel):
    sku: str
    expected: int
    counted: int
    variance: int


class StockAdjusted(BaseModel):
    lounge_id: str
    station: str
    count_id: str
    lines: list[StockCountLine]


class RequisitionLine(BaseModel):
    sku: str
    qty: int


class RequisitionSnapshot(BaseModel):
    id: str
    lounge_id: str
    station: str
    status: str
    lines: list[RequisitionLine]


class RequisitionEvent(BaseModel):
    requisition: RequisitionSnapshot


visit_checked_in = define("airside.lounge.visit.checked_in", VisitEvent, "A guest checked in at a lounge.", producer=PRODUCER)
visit_checked_out = define(
    "airside.lounge.visit.checked_out",
    VisitEvent,
    "A guest left the lounge (or was checked out when the flight departed).",
    producer=PRODUCER,
)
visit_boarding_call_due = define(
    "airside.lounge.visit.boarding_call_due", VisitEvent, "Time to call the guest to the gate.", producer=PRODUCER
)
visit_flight_changed = define(
    "airside.lounge.visit.flight_changed", VisitFlightChanged, "The guest's flight times changed; tell the guest.", producer=PRODUCER
)
sale_completed = define("airside.lounge.sale.completed", SaleCompleted, "A bill was settled.", producer=PRODUCER)
sale_voided = define("airside.lounge.sale.voided", SaleVoided, "A sale line was voided with a reason.", producer=PRODUCER)
stock_low = define("airside.lounge.stock.low", StockLow, "A SKU fell to or below its reorder point.", producer=PRODUCER)
stock_adjusted = define("airside.lounge.stock.adjusted", StockAdjusted, "A stock count set stock to what was counted.", producer=PRODUCER)
requisition_submitted = define(
    "airside.lounge.requisition.submitted", RequisitionEvent, "A purchase requisition was submitted.", producer=PRODUCER
)
requisition_approved = define(
    "airside.lounge.requisition.approved", RequisitionEvent, "The station manager approved a requisition.", producer=PRODUCER
)
requisition_received = define(
    "airside.lounge.requisition.received", RequisitionEvent, "The goods of a requisition were received.", producer=PRODUCER
)

"""Events lounge emits on AIRSIDE_LOUNGE (docs/lounge.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from airside.messaging.envelope import define
from airside.types import EventDateTime, IsoDate

PRODUCER = "lounge"


class EntryPayer(BaseModel):
    """Who pays for a visit's entry (docs/lounge.md "Carrier-paid entitlement"): member, carrier or guest;
    absent on visits from before carriers (a member's, or a walk-in's). When the carrier pays: the contract
    and the version of its term in force at check-in, its rate per passenger, the cabin (BCBP compartment
    code) and the guests within and beyond the contract's allowance; when the carrier's frequent-flyer tier
    entitled the passenger rather than the cabin, the tier the desk read and the frequent-flyer number on the pass."""

    payer: str | None = None
    carrier: str | None = None
    contract_id: str | None = None
    contract_version: int | None = None
    rate_minor: int | None = None
    currency: str | None = None
    cabin: str | None = None
    guests_carrier_paid: int | None = None
    guests_billed: int | None = None
    frequent_flyer_tier: str | None = None
    frequent_flyer_number: str | None = None


class VisitSnapshot(EntryPayer):
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
    passenger_name: str | None = None  # as on the boarding pass (SURNAME/GIVEN), or the member's name


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


class EntryRefused(BaseModel):
    """A passenger of a carrier with a lounge contract here turned away: the contract does not cover them."""

    id: str
    lounge_id: str
    station: str
    carrier: str
    contract_id: str | None = None
    flight_no: str
    flight_date: IsoDate
    cabin: str | None = None
    passenger_name: str
    reason: str  # not_entitled; a string, so a consumer never refuses a reason it does not know yet
    refused_at: EventDateTime


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
entry_refused = define(
    "airside.lounge.entry.refused",
    EntryRefused,
    "A carrier's passenger was turned away at a lounge as not entitled under the carrier's contract.",
    producer=PRODUCER,
)
requisition_submitted = define(
    "airside.lounge.requisition.submitted", RequisitionEvent, "A purchase requisition was submitted.", producer=PRODUCER
)
requisition_approved = define(
    "airside.lounge.requisition.approved", RequisitionEvent, "The station manager approved a requisition.", producer=PRODUCER
)
requisition_received = define(
    "airside.lounge.requisition.received", RequisitionEvent, "The goods of a requisition were received.", producer=PRODUCER
)


# One realistic payload per event, for the AsyncAPI document's message examples (validated when it is written).
_VISIT = {
    "id": "9d4e2b7a-1c3f-4a8e-b6d0-5f2a8c1e7b43",
    "version": 1,
    "lounge_id": "PEK-T3-F",
    "station": "PEK",
    "member_id": "6e2d9a41-8c3b-4f7e-b1a5-3d0c7f9e2b18",
    "order_id": "a3c8e1f4-2b7d-4e9a-8f6c-1d5b0e3a9c24",
    "flight_no": "CA1831",
    "flight_date": "2026-12-24",
    "guests": 1,
    "entitlement": "order",
    "status": "checked_in",
    "checked_in_at": "2026-12-23T22:50:00Z",
    "boarding_call_at": "2026-12-24T00:55:00Z",
}
_CARRIER_VISIT = {
    **_VISIT,
    "id": "5b1e8d3c-7a2f-4c9e-8d6b-0e4f2a9c1b75",
    "member_id": None,
    "order_id": None,
    "passenger_name": "ZHANG/WEI",
    "entitlement": "carrier",
    "payer": "carrier",
    "carrier": "CA",
    "contract_id": "ctr_6f3b2a9d1c7e4f08",
    "contract_version": 2,
    "rate_minor": 20000,
    "currency": "CNY",
    "cabin": "J",
    "guests": 2,
    "guests_carrier_paid": 1,
    "guests_billed": 1,
}
_LINE = {
    "line_id": "3e1b7c9a-2d4f-4b8e-a6c0-1f5d9e2a7b64",
    "sku": "TEA-LONGJING",
    "name": "Longjing tea",
    "category": "drinks",
    "qty": 2,
    "unit_price_minor": 3800,
    "amount_minor": 7600,
    "complimentary": False,
}
_REQUISITION = {
    "id": "7a2c5e9b-4d1f-4e3a-8b6c-0d9f2e1a5c37",
    "lounge_id": "PEK-T3-F",
    "station": "PEK",
    "status": "submitted",
    "lines": [{"sku": "TEA-LONGJING", "qty": 200}, {"sku": "WATER-500", "qty": 480}],
}
EXAMPLES: dict[str, dict[str, Any]] = {
    visit_checked_in.type: {"visit": _CARRIER_VISIT},
    entry_refused.type: {
        "id": "2c7f9e4a-1b3d-4e8f-9a6c-5d0b8e2f7a13",
        "lounge_id": "PEK-T3-F",
        "station": "PEK",
        "carrier": "CA",
        "contract_id": "ctr_6f3b2a9d1c7e4f08",
        "flight_no": "CA1831",
        "flight_date": "2026-12-24",
        "cabin": "Y",
        "passenger_name": "WANG/FANG",
        "reason": "not_entitled",
        "refused_at": "2026-12-23T22:52:00Z",
    },
    visit_checked_out.type: {"visit": {**_VISIT, "version": 2, "status": "checked_out", "checked_out_at": "2026-12-23T23:55:00Z"}},
    visit_boarding_call_due.type: {"visit": _VISIT},
    visit_flight_changed.type: {
        "visit": {**_VISIT, "version": 2, "boarding_call_at": "2026-12-24T01:55:00Z"},
        "new_etd": "2026-12-24T02:40:00Z",
        "delay_minutes": 60,
    },
    sale_completed.type: {
        "visit": _VISIT,
        "bill_id": "b8f1d3a6-5c2e-4a9b-9e7d-4c0a6f2b1e85",
        "lines": [
            _LINE,
            {
                **_LINE,
                "line_id": "6c4a1e8d-7b2f-4d5c-9a3e-2b8f0d6c1a97",
                "sku": "NOODLE-BEEF",
                "name": "Beef noodles",
                "category": "food",
                "qty": 1,
                "unit_price_minor": 4800,
                "amount_minor": 0,
                "complimentary": True,
            },
        ],
        "total_minor": 7600,
        "complimentary_minor": 4800,
        "payment_method": "card",
    },
    sale_voided.type: {"visit_id": _VISIT["id"], "line": _LINE, "reason": "Rung up twice"},
    stock_low.type: {"lounge_id": "PEK-T3-F", "station": "PEK", "sku": "WATER-500", "on_hand": 22, "reorder_point": 24, "reorder_qty": 480},
    stock_adjusted.type: {
        "lounge_id": "PEK-T3-F",
        "station": "PEK",
        "count_id": "e5b2d8f1-9a3c-4e6b-8d1f-7c4a0e2b9d56",
        "lines": [{"sku": "WATER-500", "expected": 120, "counted": 114, "variance": -6}],
    },
    requisition_submitted.type: {"requisition": _REQUISITION},
    requisition_approved.type: {"requisition": {**_REQUISITION, "status": "approved"}},
    requisition_received.type: {"requisition": {**_REQUISITION, "status": "received"}},
}

"""Events booking emits about airlines it serves under contract and their monthly statements (docs/carriers.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from airside.messaging.envelope import define
from airside.types import EventDateTime, IsoDate

PRODUCER = "booking"


class BillingContact(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class CarrierSnapshot(BaseModel):
    designator: str  # the IATA designator, e.g. CA
    name: str
    billing_contact: BillingContact | None = None
    version: int  # one more at every change: the copies keep the newest (docs/events.md rule 4)


class LoungeCover(BaseModel):
    """Who of the carrier's passengers the lounge admits at its cost, and at what rate per passenger."""

    cabins: list[str] = []  # BCBP compartment codes, e.g. F, A, J, C, D
    ff_tiers: list[str] = []  # the carrier's frequent-flyer tiers, as the desk reads them off the card (docs/lounge.md)
    rate_minor: int
    guests_allowed: int = 0
    complimentary_menu: bool = False


class AssistRate(BaseModel):
    product_code: str
    rate_minor: int


class ContractTerm(BaseModel):
    """The rates of a contract from `effective_from` on; a rate change adds a term, it never edits one."""

    version: int
    effective_from: EventDateTime
    lounge: LoungeCover | None = None
    assist: list[AssistRate] = []


class ContractStatus(StrEnum):
    active = "active"
    ended = "ended"


ACTIVE = ContractStatus.active.value


def valid_on(*, status: str, valid_from: date, valid_to: date | None, day: date) -> bool:
    """An active contract covers the station's local days from valid_from to valid_to, both included."""
    return status == ACTIVE and valid_from <= day and (valid_to is None or day <= valid_to)


class Effective(Protocol):
    """A contract term as either side holds it: booking's row or the event's term."""

    @property
    def effective_from(self) -> datetime: ...

    @property
    def version(self) -> int: ...


TermT = TypeVar("TermT", bound=Effective)


def term_in_force(terms: Iterable[TermT], at: datetime) -> TermT | None:
    """The term in force at `at`: the one with the latest effective_from not after it, so a rate change is a new
    term from its instant on (docs/carriers.md "Terms"). One rule for booking's prices and the lounge's door;
    an effective_from sent without an offset is read as UTC."""

    def start(term: TermT) -> datetime:
        moment = term.effective_from
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    started = [term for term in terms if start(term) <= at]
    return max(started, key=lambda term: (start(term), term.version), default=None)


class SettlementTerms(BaseModel):
    frequency: str = "monthly"
    payment_days: int


class ContractSnapshot(BaseModel):
    id: str
    carrier: str
    station: str
    currency: str
    valid_from: IsoDate  # the station's local days, inclusive
    valid_to: IsoDate | None = None
    status: str  # "active" or "ended", read as a string: a tolerant reader (docs/http.md "Enums")
    settlement: SettlementTerms
    version: int
    terms: list[ContractTerm]  # every term ever in force, oldest first


class CarrierEvent(BaseModel):
    carrier: CarrierSnapshot


class ContractEvent(BaseModel):
    contract: ContractSnapshot


class ServiceTotal(BaseModel):
    service: str  # LOUNGE, a meet-and-assist product code, or CREDIT
    quantity: int
    amount_minor: int


class StatementIssued(BaseModel):
    id: str
    number: str  # e.g. PEK-CA-2026-12; a supplementary statement of the same month adds -2, -3
    carrier: str
    station: str
    month: str  # the station's local month, YYYY-MM
    currency: str
    total_minor: int
    totals: list[ServiceTotal]
    lines: int
    issued_at: EventDateTime
    due_on: IsoDate  # issued_at's local day plus the contract's payment days


carrier_upserted = define(
    "airside.booking.carrier.upserted",
    CarrierEvent,
    "An airline was registered or changed; the whole carrier with version.",
    producer=PRODUCER,
)
contract_upserted = define(
    "airside.booking.contract.upserted",
    ContractEvent,
    "A carrier's contract at a station was made, given a new term or ended; the whole contract, every term, with version.",
    producer=PRODUCER,
)
statement_issued = define(
    "airside.booking.settlement.statement_issued",
    StatementIssued,
    "A carrier's monthly statement at a station was issued: numbered and frozen, with its totals.",
    producer=PRODUCER,
)


_CARRIER = {
    "designator": "CA",
    "name": "Air China",
    "billing_contact": {"name": "Interline accounts", "email": "interline@airchina.example", "phone": "+861061622222"},
    "version": 1,
}
_CONTRACT: dict[str, Any] = {
    "id": "ctr_6f3b2a9d1c7e4f08",
    "carrier": "CA",
    "station": "PEK",
    "currency": "CNY",
    "valid_from": "2026-12-01",
    "valid_to": None,
    "status": "active",
    "settlement": {"frequency": "monthly", "payment_days": 30},
    "version": 2,
    "terms": [
        {
            "version": 1,
            "effective_from": "2026-11-30T16:00:00Z",
            "lounge": {
                "cabins": ["F", "A", "J", "C", "D"],
                "ff_tiers": ["Platinum"],
                "rate_minor": 18000,
                "guests_allowed": 1,
                "complimentary_menu": True,
            },
            "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
        },
        {
            "version": 2,
            "effective_from": "2026-12-15T16:00:00Z",
            "lounge": {
                "cabins": ["F", "A", "J", "C", "D"],
                "ff_tiers": ["Platinum"],
                "rate_minor": 20000,
                "guests_allowed": 1,
                "complimentary_menu": True,
            },
            "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
        },
    ],
}
EXAMPLES: dict[str, dict[str, Any]] = {
    carrier_upserted.type: {"carrier": _CARRIER},
    contract_upserted.type: {"contract": _CONTRACT},
    statement_issued.type: {
        "id": "stm_2b8e4c1a9f3d7e60",
        "number": "PEK-CA-2026-12",
        "carrier": "CA",
        "station": "PEK",
        "month": "2026-12",
        "currency": "CNY",
        "total_minor": 3815000,
        "totals": [
            {"service": "LOUNGE", "quantity": 206, "amount_minor": 3800000},
            {"service": "DEP_ESCORT", "quantity": 2, "amount_minor": 30000},
            {"service": "CREDIT", "quantity": 1, "amount_minor": -15000},
        ],
        "lines": 209,
        "issued_at": "2026-12-31T16:05:00Z",
        "due_on": "2027-01-31",
    },
}

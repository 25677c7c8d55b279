"""A partner order's price: the assist rates of the carrier's contract term in force at the service
(docs/carriers.md "Partner orders"). One read of the carrier's contracts at the station and their terms;
the choice is a pure function of the rows, so creating and changing an order apply the same rule."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select

from airside.events import carriers as events
from airside.problems import conflict
from booking.carriers.models import Contract, ContractTerm

CONTRACT: Table = Contract.__table__  # type: ignore[attr-defined]
TERM: Table = ContractTerm.__table__  # type: ignore[attr-defined]

# Every term of the carrier's contracts at the station (a handful of rows).
PARTNER_TERMS = (
    select(
        CONTRACT.c.id.label("contract_id"),
        CONTRACT.c.valid_from,
        CONTRACT.c.valid_to,
        CONTRACT.c.status,
        CONTRACT.c.currency,
        TERM.c.version,
        TERM.c.effective_from,
        TERM.c.assist,
    )
    .select_from(CONTRACT.join(TERM, TERM.c.contract_id == CONTRACT.c.id))
    .where(
        CONTRACT.c.carrier == bindparam("payer_carrier", type_=CONTRACT.c.carrier.type),
        CONTRACT.c.station == bindparam("payer_station", type_=CONTRACT.c.station.type),
    )
)


def params(carrier: str, station: str) -> dict[str, str]:
    return {"payer_carrier": carrier, "payer_station": station}


@dataclass(frozen=True)
class PartnerRates:
    carrier: str
    contract_id: str
    contract_version: int
    currency: str
    rates: dict[str, int]  # product code -> rate in minor units

    def payer(self, codes: list[str]) -> dict[str, Any]:
        """What the order keeps of its payer (and its snapshot carries): the rates of its items."""
        return {
            "carrier": self.carrier,
            "contract_id": self.contract_id,
            "contract_version": self.contract_version,
            "rates": [{"product": code, "rate_minor": self.rates[code]} for code in codes],
        }


@dataclass(frozen=True)
class _Term:
    version: int
    effective_from: datetime
    row: dict[str, Any]


def rates_in_force(rows: list[dict[str, Any]], *, carrier: str, at: datetime, zone: ZoneInfo) -> PartnerRates:
    """The rates of the active contract covering `at`'s local day, in its term in force at `at` (the rule the
    lounge's door applies too, airside.events.carriers); else 409 no_contract."""
    day = at.astimezone(zone).date()
    covering = [
        _Term(row["version"], row["effective_from"], row)
        for row in rows
        if events.valid_on(status=row["status"], valid_from=row["valid_from"], valid_to=row["valid_to"], day=day)
    ]
    term = events.term_in_force(covering, at)
    if term is None:
        raise conflict("no_contract", f"carrier {carrier} has no contract here covering {day.isoformat()}", carrier=carrier)
    return PartnerRates(
        carrier=carrier,
        contract_id=term.row["contract_id"],
        contract_version=term.version,
        currency=term.row["currency"],
        rates={rate["product_code"]: rate["rate_minor"] for rate in term.row["assist"] or []},
    )

"""Pure rules of a carrier's lounge contract (docs/lounge.md "Carrier-paid entitlement")."""

from datetime import UTC, date, datetime

from airside.events.carriers import ContractTerm, LoungeCover

ACTIVE = "active"


def valid_on(*, status: str, valid_from: date, valid_to: date | None, day: date) -> bool:
    """An active contract covers the station's local days from valid_from to valid_to, both included."""
    return status == ACTIVE and valid_from <= day and (valid_to is None or day <= valid_to)


def term_in_force(terms: list[ContractTerm], at: datetime) -> ContractTerm | None:
    """The term with the latest effective_from not after `at`: a rate change adds a term from its instant on."""
    started = [term for term in terms if _utc(term.effective_from) <= at]
    return max(started, key=lambda term: (_utc(term.effective_from), term.version), default=None)


def _utc(moment: datetime) -> datetime:
    """An instant of booking's event; one sent without an offset is read as UTC (docs/events.md)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def covers_cabin(cover: LoungeCover, cabin: str | None) -> bool:
    """The boarding pass's compartment code is one the carrier pays lounge access for."""
    return cabin is not None and cabin.upper() in {code.upper() for code in cover.cabins}

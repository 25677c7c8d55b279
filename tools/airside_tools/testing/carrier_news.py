"""Booking's carrier and contract news, built from the shared event models as booking builds them, and the
world the R10 tests of every service's carrier copies compare (docs/events.md rule 4).

A world is one fresh carrier or contract whose events a service's consumer applies through its own inbox
path, as a plan delivers them; what it leaves is the copy, with its ids named by role.
"""

from __future__ import annotations

import itertools
import string
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from airside.events import carriers as carrier_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing.convergence import Plan, anonymised, assert_same, check_property, deliver, in_order, plans

SIGNED = datetime(2033, 3, 1, 16, tzinfo=UTC)  # every world's contract has the same days and terms; only its ids differ
# Designators of these worlds only, a digit and two letters (the other tests fly letter pairs): enough for long runs.
_designators = ("".join(code) for code in itertools.product(string.digits, string.ascii_uppercase, string.ascii_uppercase))


def carrier_news(designator: str) -> list[CloudEvent]:
    """Booking's carrier.upserted at each change: registered, renamed with a billing contact, renamed again."""
    changes = [
        ("Air R10", None),
        ("R10 Airways", {"name": "Interline accounts", "email": "interline@r10.example"}),
        ("R10 Airlines", {"name": "Interline accounts", "email": "billing@r10.example", "phone": "+861061622222"}),
    ]
    return [
        carrier_events.carrier_upserted.build(
            carrier_events.CarrierEvent(
                carrier=carrier_events.CarrierSnapshot.model_validate(
                    {"designator": designator, "name": name, "billing_contact": contact, "version": version}
                )
            ),
            subject=designator,
            source="airside/booking",
        )
        for version, (name, contact) in enumerate(changes, start=1)
    ]


def contract_news(contract_id: str, designator: str) -> list[CloudEvent]:
    """Booking's contract.upserted at each change: made, a rate change (a second term), ended."""
    first = {"version": 1, "effective_from": SIGNED, "lounge": {"cabins": ["J"], "rate_minor": 18000}}
    second = {"version": 2, "effective_from": SIGNED + timedelta(days=14), "lounge": {"cabins": ["J", "C"], "rate_minor": 20000}}
    versions = [
        ("active", None, [first]),
        ("active", None, [first, second]),
        ("ended", date(2033, 3, 31), [first, second]),
    ]
    return [
        carrier_events.contract_upserted.build(
            carrier_events.ContractEvent(
                contract=carrier_events.ContractSnapshot.model_validate(
                    {
                        "id": contract_id,
                        "carrier": designator,
                        "station": "PEK",
                        "currency": "CNY",
                        "valid_from": date(2033, 3, 2),
                        "valid_to": valid_to,
                        "status": status,
                        "settlement": {"payment_days": 30},
                        "version": version,
                        "terms": terms,
                    }
                )
            ),
            subject=contract_id,
            source="airside/booking",
        )
        for version, (status, valid_to, terms) in enumerate(versions, start=1)
    ]


NEWS = 3  # events in each world's news


async def carrier_copy_world(
    service: Any, *, consumer: str, carriers: type, contracts: type, kind: str, plan: Plan
) -> dict[str, Any] | None:
    """One fresh carrier's (kind "carrier") or contract's news delivered to `consumer` as `plan` says; the copy left."""
    designator, contract_id = next(_designators), f"ctr_{uuid.uuid4().hex[:16]}"
    news = carrier_news(designator) if kind == "carrier" else contract_news(contract_id, designator)
    await deliver(service.runtime.consumers[consumer], news, plan)
    async with service.runtime.db.session() as session:
        row = await session.get(carriers, designator) if kind == "carrier" else await session.get(contracts, contract_id)
        state = row.model_dump() if row is not None else None
    return anonymised(state, {contract_id: "<contract>", designator: "<carrier>"})


async def check_carrier_copies_converge(service: Any, *, consumer: str, carriers: type, contracts: type, max_examples: int) -> None:
    """R10: a world delivered as hypothesis plans it ends as the same news delivered in order leaves it."""

    async def converges(example: tuple[str, Plan]) -> None:
        kind, plan = example
        tables = {"consumer": consumer, "carriers": carriers, "contracts": contracts}
        expected = await carrier_copy_world(service, **tables, kind=kind, plan=in_order(NEWS))
        actual = await carrier_copy_world(service, **tables, kind=kind, plan=plan)
        assert_same(actual, expected, f"{kind}, delivered as {plan}")

    await check_property(st.tuples(st.sampled_from(["carrier", "contract"]), plans(NEWS)), converges, max_examples=max_examples)

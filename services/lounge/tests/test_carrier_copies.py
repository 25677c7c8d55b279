"""R10 for the lounge's copies of booking's carriers and contracts: any order and any duplication of one carrier's
or one contract's events leaves the copy as in-order delivery does, the newest version (docs/events.md rule 4).

Each example builds two worlds of the same news (a fresh carrier or contract): one delivered in order, the
other as hypothesis plans it, both through the consumer's own inbox path on the real database.
"""

import itertools
import string
import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from airside.events import carriers as carrier_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing.convergence import anonymised, assert_same, check_property, deliver, examples, in_order, plans
from lounge.carriers.models import Carrier, Contract

CONSUMER = "lounge-booking"
SIGNED = datetime(2033, 3, 1, 16, tzinfo=UTC)  # every world's contract has the same days and terms; only its ids differ
# Designators of these worlds only, a digit and two letters (the other tests fly letter pairs): enough for long runs.
_designators = ("".join(code) for code in itertools.product(string.digits, string.ascii_uppercase, string.ascii_uppercase))


def carrier_news(designator: str) -> list[CloudEvent]:
    """Booking's carrier.upserted at each change: registered, renamed, renamed again."""
    return [
        carrier_events.carrier_upserted.build(
            carrier_events.CarrierEvent(carrier=carrier_events.CarrierSnapshot(designator=designator, name=name, version=version)),
            subject=designator,
            source="airside/booking",
        )
        for version, name in enumerate(("Air R10", "R10 Airways", "R10 Airlines"), start=1)
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


async def world(lounge, kind: str, plan) -> dict:
    designator, contract_id = next(_designators), f"ctr_{uuid.uuid4().hex[:16]}"
    news = carrier_news(designator) if kind == "carrier" else contract_news(contract_id, designator)
    await deliver(lounge.runtime.consumers[CONSUMER], news, plan)
    async with lounge.runtime.db.session() as session:
        row = await session.get(Carrier, designator) if kind == "carrier" else await session.get(Contract, contract_id)
        state = row.model_dump() if row is not None else None
    return anonymised(state, {contract_id: "<contract>", designator: "<carrier>"})


async def test_r10_carrier_and_contract_copies_end_as_in_order_delivery_leaves_them(lounge):
    async def converges(example) -> None:
        kind, plan = example
        expected = await world(lounge, kind, in_order(3))
        actual = await world(lounge, kind, plan)
        assert_same(actual, expected, f"{kind}, delivered as {plan}")

    await check_property(st.tuples(st.sampled_from(["carrier", "contract"]), plans(3)), converges, max_examples=examples(30))


async def test_r10_in_order_the_copies_hold_the_newest_version(lounge):
    """What 'in order' leaves, stated once, so the property compares against the right thing."""
    carrier = await world(lounge, "carrier", in_order(3))
    assert (carrier["name"], carrier["version"]) == ("R10 Airlines", 3)
    contract = await world(lounge, "contract", in_order(3))
    assert (contract["status"], contract["valid_to"], contract["version"]) == ("ended", date(2033, 3, 31), 3)
    assert [(term["version"], term["lounge"]["rate_minor"]) for term in contract["terms"]] == [(1, 18000), (2, 20000)]

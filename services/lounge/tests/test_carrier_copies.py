"""R10 for the lounge's copies of booking's carriers and contracts: any order and any duplication of one carrier's
or one contract's events leaves the copy as in-order delivery does, the newest version (docs/events.md rule 4).

Each example builds two worlds of the same news (a fresh carrier or contract, airside_tools.testing.carrier_news):
one delivered in order, the other as hypothesis plans it, both through the consumer's own inbox path on the real
database.
"""

from datetime import date

from airside_tools.testing.carrier_news import NEWS, carrier_copy_world, check_carrier_copies_converge
from airside_tools.testing.convergence import examples, in_order
from lounge.carriers.models import Carrier, Contract

CONSUMER = "lounge-booking"


async def world(lounge, kind: str, plan) -> dict:
    return await carrier_copy_world(lounge, consumer=CONSUMER, carriers=Carrier, contracts=Contract, kind=kind, plan=plan)


async def test_r10_carrier_and_contract_copies_end_as_in_order_delivery_leaves_them(lounge):
    await check_carrier_copies_converge(lounge, consumer=CONSUMER, carriers=Carrier, contracts=Contract, max_examples=examples(30))


async def test_r10_in_order_the_copies_hold_the_newest_version(lounge):
    """What 'in order' leaves, stated once, so the property compares against the right thing."""
    carrier = await world(lounge, "carrier", in_order(NEWS))
    assert carrier == {"designator": "<carrier>", "name": "R10 Airlines", "version": 3}  # the billing contact stays with booking
    contract = await world(lounge, "contract", in_order(NEWS))
    assert (contract["status"], contract["valid_to"], contract["version"]) == ("ended", date(2033, 3, 31), 3)
    assert [(term["version"], term["lounge"]["rate_minor"]) for term in contract["terms"]] == [(1, 18000), (2, 20000)]

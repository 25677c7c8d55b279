"""The call center's copies of booking's carriers and contracts (docs/callcenter.md "Carriers"): booking's events
over real NATS fill them, newest version wins, and R10: any order and any duplication of one carrier's or one
contract's events leaves the copy as in-order delivery does (docs/events.md rule 4).

The news is booking's, built from the shared event models (airside_tools.testing.carrier_news); the property's
worlds go through the consumer's own inbox path on the real database.
"""

from datetime import date

from cc_support import publish

from airside.events import carriers as carrier_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing.carrier_news import NEWS, carrier_copy_world, carrier_news, check_carrier_copies_converge, contract_news
from airside_tools.testing.convergence import examples, in_order
from airside_tools.testing.events import acknowledged_everything
from airside_tools.testing.harness import auth, wait_for
from callcenter.carriers.models import Carrier, Contract

CONSUMER = "callcenter-booking"


async def world(callcenter, kind: str, plan) -> dict:
    return await carrier_copy_world(callcenter, consumer=CONSUMER, carriers=Carrier, contracts=Contract, kind=kind, plan=plan)


async def publish_as_booking(nats_url: str, event: CloudEvent) -> None:
    definition = carrier_events.carrier_upserted if event.type == carrier_events.carrier_upserted.type else carrier_events.contract_upserted
    await publish(nats_url, definition, definition.parse(event), subject=event.subject)
    await wait_for(lambda: acknowledged_everything(nats_url, "AIRSIDE_BOOKING", CONSUMER), timeout=10, what=f"{event.type} applied")


async def test_booking_events_over_nats_fill_the_copies_and_an_older_version_changes_nothing(callcenter, nats_server):
    carrier_v1, carrier_v2, carrier_v3 = carrier_news("9ZA")
    contract_v1, _, contract_v3 = contract_news("ctr_cc_copy_0000001", "9ZA")
    for event in (carrier_v1, contract_v1, carrier_v3, contract_v3, carrier_v2):  # carrier_v2 arrives last, too late
        await publish_as_booking(nats_server.url, event)
    async with callcenter.runtime.db.session() as session:
        carrier = await session.get(Carrier, "9ZA")
        contract = await session.get(Contract, "ctr_cc_copy_0000001")
    assert carrier.model_dump() == {
        "designator": "9ZA",
        "name": "R10 Airlines",
        "billing_contact": {"name": "Interline accounts", "email": "billing@r10.example", "phone": "+861061622222"},
        "version": 3,
    }
    assert contract.model_dump() == {
        "id": "ctr_cc_copy_0000001",
        "carrier": "9ZA",
        "station": "PEK",
        "valid_from": date(2033, 3, 2),
        "valid_to": date(2033, 3, 31),
        "status": "ended",
        "version": 3,
    }


async def test_a_carrier_first_copied_without_a_billing_contact_holds_none(callcenter):
    carrier = await world(callcenter, "carrier", in_order(1))
    assert carrier == {"designator": "<carrier>", "name": "Air R10", "billing_contact": None, "version": 1}


async def test_r10_carrier_and_contract_copies_end_as_in_order_delivery_leaves_them(callcenter):
    await check_carrier_copies_converge(callcenter, consumer=CONSUMER, carriers=Carrier, contracts=Contract, max_examples=examples(30))


async def test_r10_in_order_the_copies_hold_the_newest_version(callcenter):
    """What 'in order' leaves, stated once, so the property compares against the right thing."""
    carrier = await world(callcenter, "carrier", in_order(NEWS))
    assert (carrier["name"], carrier["billing_contact"]["email"], carrier["version"]) == ("R10 Airlines", "billing@r10.example", 3)
    contract = await world(callcenter, "contract", in_order(NEWS))
    assert contract == {
        "id": "<contract>",
        "carrier": "<carrier>",
        "station": "PEK",
        "valid_from": date(2033, 3, 2),
        "valid_to": date(2033, 3, 31),
        "status": "ended",
        "version": 3,
    }


async def test_an_agent_reads_the_carrier_with_its_contracts_at_the_agents_stations(client, callcenter, nats_server):
    """What booking announced, over HTTP: the carrier and whom to write about billing, its contracts at the stations
    the token covers (another station's stay out), and 404 for a carrier no event has named yet."""
    carrier_v1, _, _ = carrier_news("Q7")
    here, elsewhere = contract_news("ctr_cc_read_0000001", "Q7")[0], contract_news("ctr_cc_read_0000002", "Q7")[0]
    elsewhere_snapshot = carrier_events.contract_upserted.parse(elsewhere).contract.model_copy(update={"station": "KMG"})
    await publish_as_booking(nats_server.url, carrier_v1)
    await publish_as_booking(nats_server.url, here)
    await publish(
        nats_server.url,
        carrier_events.contract_upserted,
        carrier_events.ContractEvent(contract=elsewhere_snapshot),
        subject=elsewhere.subject,
    )
    await wait_for(
        lambda: acknowledged_everything(nats_server.url, "AIRSIDE_BOOKING", CONSUMER), timeout=10, what="the KMG contract applied"
    )

    at_pek = await client.get("/v1/carriers/Q7", headers=auth("agent", stations=["PEK"]))
    assert at_pek.status_code == 200 and at_pek.headers["etag"]
    carrier = at_pek.json()
    assert (carrier["designator"], carrier["name"], carrier["version"]) == ("Q7", "Air R10", 1)
    assert [(contract["id"], contract["station"], contract["status"]) for contract in carrier["contracts"]] == [
        ("ctr_cc_read_0000001", "PEK", "active")
    ]
    everywhere = (await client.get("/v1/carriers/Q7", headers=auth("supervisor", stations=["*"]))).json()
    assert {contract["station"] for contract in everywhere["contracts"]} == {"PEK", "KMG"}
    unknown = await client.get("/v1/carriers/Q8", headers=auth("agent", stations=["PEK"]))
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/carriers/Q7", headers=auth("lounge_staff", stations=["PEK"]))).status_code == 403
    assert (await client.get("/v1/carriers/cab", headers=auth("agent", stations=["PEK"]))).status_code == 422

"""in_lounge from lounge's visit events (shared schema airside.events.lounge), with state guards."""

import uuid

import nats
from booking_support import LEAD, act, assigned_order, confirmed_order

from airside.events import lounge as lounge_events
from airside_tools.testing.harness import wait_for


async def publish_visit(nats_url: str, definition, order: dict, *, visit_id: str | None = None) -> None:
    visit = lounge_events.VisitSnapshot(
        id=visit_id or str(uuid.uuid4()),
        version=1,
        lounge_id="PEK-T3-F",
        station=order["station"],
        member_id=order["member_id"],
        order_id=order["id"],
        flight_no=order["flight"]["flight_no"],
        flight_date=order["flight"]["flight_date"],
        guests=1,
        entitlement="order",
        status="checked_in",
        checked_in_at=order["meet_at"],
    )
    event = definition.build(lounge_events.VisitEvent(visit=visit), subject=visit.id, source="airside/lounge")
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(definition.subject, event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()


async def status_becomes(client, order, status):
    async def check():
        return (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["status"] == status

    await wait_for(check, timeout=10, what=f"order {status}")


async def test_a_lounge_only_order_goes_in_lounge_then_completed(client, nats_server):
    order = await confirmed_order(client, items=[{"product": "LOUNGE"}])
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, order)
    await status_becomes(client, order, "in_lounge")
    await publish_visit(nats_server.url, lounge_events.visit_checked_out, order)
    await status_becomes(client, order, "completed")
    # a late check-in for a completed order is ignored
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, order)
    marker = await confirmed_order(client, items=[{"product": "LOUNGE"}])
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, marker)
    await status_becomes(client, marker, "in_lounge")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["status"] == "completed"


async def test_an_escorted_order_goes_to_the_lounge_and_back_in_service(client, nats_server):
    order, _ = await assigned_order(client)
    order = (await act(client, order, "start")).json()
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, order)
    await status_becomes(client, order, "in_lounge")
    await publish_visit(nats_server.url, lounge_events.visit_checked_out, order)
    await status_becomes(client, order, "in_service")
    history = (await client.get(f"/v1/orders/{order['id']}/history", headers=LEAD)).json()["items"]
    assert [entry["action"] for entry in history][-2:] == ["in_lounge", "left_lounge"]


async def test_a_check_in_for_an_escorted_order_not_yet_met_is_ignored(client, nats_server):
    order = await confirmed_order(client)
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, order)
    marker = await confirmed_order(client, items=[{"product": "LOUNGE"}])
    await publish_visit(nats_server.url, lounge_events.visit_checked_in, marker)
    await status_becomes(client, marker, "in_lounge")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["status"] == "confirmed"

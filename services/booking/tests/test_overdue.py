"""order.confirmation_overdue: fired once at confirm_by, across a restart and with a second replica."""

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import AGENT, act, iso, local, local_day, new_flight, new_member, new_order, order_body

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import in_process, job_passes, settings_for_test
from booking.main import SERVICE


def _count(events, order_id):
    return sum(event.subject == order_id for event in events)


async def test_overdue_fires_once_across_a_restart_and_a_second_replica(nats_server, databases):
    url = databases.create(f"overdue_{uuid.uuid4().hex[:6]}")
    settings = settings_for_test(SERVICE, database_url=url, nats_url=nats_server.url)
    async with in_process(SERVICE, settings) as first:
        member = await new_member(first.client)
        soon = datetime.now(UTC) + timedelta(minutes=60)  # confirm_by (at the latest meet_at - 120 min) is already past
        body = order_body(member["id"], new_flight(soon + timedelta(minutes=120)), meet_at=iso(soon))
        response = await first.client.post("/v1/orders", json=body, headers=AGENT)
        assert response.status_code == 201, response.text
        order = response.json()
        later = await new_order(first.client, member=member, std=local(local_day(4), 16))  # confirm_by in days: not due
        events = await published_events(
            nats_server.url, "airside.booking.order.confirmation_overdue", until=lambda seen: _count(seen, order["id"]) >= 1
        )
    async with in_process(SERVICE, settings) as restarted, in_process(SERVICE, settings) as replica:
        await job_passes("booking", "overdue_confirmations", 6)  # several scheduler passes of both
        assert (await restarted.client.get(f"/v1/orders/{order['id']}", headers=AGENT)).status_code == 200
        assert replica.runtime is not None
    events = await published_events(
        nats_server.url, "airside.booking.order.confirmation_overdue", until=lambda seen: _count(seen, order["id"]) >= 1
    )
    assert _count(events, order["id"]) == 1 and _count(events, later["id"]) == 0
    assert next(event for event in events if event.subject == order["id"]).data["order"]["status"] == "requested"


async def test_a_confirmed_order_is_never_overdue(client, nats_server):
    member = await new_member(client)
    soon = datetime.now(UTC) + timedelta(minutes=60)
    body = order_body(member["id"], new_flight(soon + timedelta(minutes=120)), meet_at=iso(soon))
    confirmed = (await client.post("/v1/orders", json=body, headers={**AGENT, "Idempotency-Key": uuid.uuid4().hex})).json()
    # confirm at once; the scheduler may have fired already in between, so only check the one never confirmed fires
    await act(client, confirmed, "confirm")
    unconfirmed = (await client.post("/v1/orders", json=body, headers=AGENT)).json()
    events = await published_events(
        nats_server.url, "airside.booking.order.confirmation_overdue", until=lambda seen: _count(seen, unconfirmed["id"]) >= 1
    )
    assert _count(events, unconfirmed["id"]) == 1

"""Signed webhooks to a partner (docs/webhooks.md), end to end: an admin subscribes a real HTTPS receiver
process (airside_tools.webhook_receiver) to a service's events over HTTP, the services fan their events
out from NATS and deliver them, and the receiver verifies every signature with `standardwebhooks` and
applies each `webhook-id` once. The receiver is killed, fails with 500s, answers late and loses its
secret; nothing is lost, and what is repeated is only ever a repeated webhook-id.

The set runs with harness.fast_webhooks: retries after 0.2, 0.5, 1, 2, 3, 4 and 5 s (15.7 s in all, then a dead
letter), a 2 s timeout, disabled after 25 s of failures.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from e2e_steps import ADMIN, Airside, Client, Flight, Json, events_about, eventually, now

from airside.webhooks.service import new_secret as unrelated_secret
from airside_tools.webhook_receiver import ReceivedState, ReceiverProcess

ORDER_EVENTS = "airside.booking.order.*"


@dataclass
class Subscription:
    """A subscription as its admin holds it: the answer to creating it, and where it delivers."""

    service: Client
    endpoint: str
    body: Json

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def secret(self) -> str:
        return str(self.body["secret"])

    async def held(self) -> Json:
        return (await self.service.call("GET", f"/v1/webhooks/{self.id}", ADMIN)).json()

    async def deliveries(self, status: str | None = None) -> list[Json]:
        return await self.service.every(f"/v1/webhooks/{self.id}/deliveries", ADMIN, {"status": status} if status else {})

    async def delivery_of(self, event_id: str) -> Json | None:
        return next((delivery for delivery in await self.deliveries() if delivery["event_id"] == event_id), None)


async def subscribe(service: Client, receiver: ReceiverProcess, event_types: list[str]) -> Subscription:
    endpoint = f"partner-{uuid.uuid4().hex[:8]}"
    body = {"url": receiver.hook_url(endpoint), "event_types": event_types, "description": "Partner CRM (e2e)"}
    created = (await service.call("POST", "/v1/webhooks", ADMIN, json=body, expect=201)).json()
    assert (created["url"], created["event_types"], created["status"]) == (body["url"], event_types, "active")
    assert created["secret"].startswith("whsec_")
    assert "secret" not in (await service.call("GET", f"/v1/webhooks/{created['id']}", ADMIN)).json(), "the secret is shown once"
    return Subscription(service, endpoint, created)


@pytest.fixture
async def orders_hook(airside: Airside, receiver: ReceiverProcess) -> AsyncIterator[Subscription]:
    """Booking's order events delivered to the receiver, which knows the subscription's secret; deleted after."""
    subscription = await subscribe(airside.booking, receiver, [ORDER_EVENTS])
    await receiver.set_mode("ok")
    await receiver.set_secrets(subscription.secret)
    yield subscription
    await receiver.set_mode("ok")
    await airside.booking.call("DELETE", f"/v1/webhooks/{subscription.id}", ADMIN, expect=204)


async def new_order(airside: Airside) -> Json:
    member = await airside.booking.register_member("Webhook Wu")
    return await airside.booking.book(member, Flight.departing(now() + timedelta(days=3)), products=("DEP_ESCORT",))


async def published_ids(airside: Airside, order: Json, count: int) -> set[str]:
    """The ids of an order's events as booking published them on NATS: what the partner is owed."""
    return {event.id for event in await events_about(airside.nats_url, "airside.booking.order.>", order["id"], count=count)}


async def received(receiver: ReceiverProcess, subscription: Subscription, ids: set[str], timeout: float = 20) -> ReceivedState:
    """The receiver's state once every one of `ids` has been applied at the subscription's endpoint."""

    async def arrived() -> ReceivedState | None:
        state = await receiver.state()
        return state if ids <= {event["id"] for event in state.at(subscription.endpoint)} else None

    return await eventually(arrived, f"{len(ids)} events applied at {subscription.endpoint}", timeout)


async def attempted(subscription: Subscription, event_id: str, *, at_least: int, status: str = "pending") -> Json:
    async def seen() -> Json | None:
        delivery = await subscription.delivery_of(event_id)
        return delivery if delivery and delivery["attempts"] >= at_least and delivery["status"] == status else None

    return await eventually(seen, f"delivery of {event_id} {status} after {at_least} attempts", timeout=40)


async def logged_delivered(subscription: Subscription, ids: set[str]) -> list[Json]:
    """The delivery log once it shows every one of `ids` delivered (the receiver applies an event before it
    answers, so the log is written a moment after the receiver has it)."""

    async def logged() -> list[Json] | None:
        delivered = await subscription.deliveries(status="delivered")
        return delivered if ids <= {delivery["event_id"] for delivery in delivered} else None

    return await eventually(logged, f"{len(ids)} deliveries logged as delivered")


async def test_an_order_journey_reaches_the_partner_signed_and_once_each(airside: Airside, receiver: ReceiverProcess, orders_hook):
    before = await receiver.state()
    order = await new_order(airside)
    await airside.booking.confirm(order)
    await airside.booking.cancel(order, "the member changed plans")
    owed = await published_ids(airside, order, count=3)

    state = await received(receiver, orders_hook, owed)
    mine = state.at(orders_hook.endpoint)
    assert {event["id"] for event in mine} == owed, "exactly the events booking published, nothing else"
    assert sorted(event["type"] for event in mine) == sorted(
        ["airside.booking.order.created", "airside.booking.order.confirmed", "airside.booking.order.cancelled"]
    )
    assert {event["subject"] for event in mine} == {order["id"]}
    assert state.rejected == before.rejected, "every request carried a signature the receiver verified"
    delivered = await logged_delivered(orders_hook, owed)
    assert {d["event_id"] for d in delivered} == owed and all(delivery["delivered_at"] for delivery in delivered)


async def test_a_receiver_down_while_events_are_produced_gets_them_all_once_restarted(
    airside: Airside, receiver: ReceiverProcess, orders_hook
):
    receiver.kill()
    try:
        orders = [await new_order(airside) for _ in range(3)]
        for order in orders:
            await airside.booking.confirm(order)
        owed = set().union(*[await published_ids(airside, order, count=2) for order in orders])
        for event_id in owed:  # every one tried against the dead port at least once
            await attempted(orders_hook, event_id, at_least=1)
    finally:
        await asyncio.to_thread(receiver.restart)

    state = await received(receiver, orders_hook, owed)
    mine = state.at(orders_hook.endpoint)
    assert len(mine) == len(owed) == 6 and {event["id"] for event in mine} == owed, "none missing, none extra"
    delivered = await logged_delivered(orders_hook, owed)
    assert {d["event_id"] for d in delivered} == owed and all(d["attempts"] >= 2 for d in delivered)


async def test_a_receiver_answering_500_is_retried_until_it_accepts(airside: Airside, receiver: ReceiverProcess, orders_hook):
    await receiver.set_mode("fail")
    order = await new_order(airside)
    (event_id,) = await published_ids(airside, order, count=1)
    failing = await attempted(orders_hook, event_id, at_least=2)
    assert failing["last_status_code"] == 500 and failing["next_attempt_at"], failing
    await receiver.set_mode("ok")

    state = await received(receiver, orders_hook, {event_id})
    assert state.copies()[event_id] == 1, "a 500 applied nothing: the accepted attempt is the only copy"
    log = await attempted(orders_hook, event_id, at_least=3, status="delivered")
    assert log["last_status_code"] in (200, 204) and log["delivered_at"], log


async def test_a_receiver_answering_late_gets_the_event_again_and_applies_it_once(airside: Airside, receiver: ReceiverProcess, orders_hook):
    await receiver.set_mode("slow", seconds=3)  # past the 2 s timeout: each attempt is applied, then times out
    order = await new_order(airside)
    (event_id,) = await published_ids(airside, order, count=1)
    await attempted(orders_hook, event_id, at_least=2)
    await receiver.set_mode("ok")

    delivery = await attempted(orders_hook, event_id, at_least=3, status="delivered")
    state = await receiver.state()
    (event,) = [event for event in state.at(orders_hook.endpoint) if event["id"] == event_id]
    assert event["copies"] >= 2, "the timed-out attempts reached the receiver too: the same webhook-id, applied once"
    assert event["copies"] <= delivery["attempts"]


async def test_after_a_secret_rotation_the_old_and_the_new_secret_each_verify(airside: Airside, receiver: ReceiverProcess, orders_hook):
    rotated = (await airside.booking.call("POST", f"/v1/webhooks/{orders_hook.id}/rotate-secret", ADMIN)).json()
    new_secret = rotated["secret"]
    assert new_secret.startswith("whsec_") and new_secret != orders_hook.secret
    before = await receiver.state()
    for secret in (orders_hook.secret, new_secret):  # in the overlap, a receiver that knows either one verifies
        await receiver.set_secrets(secret)
        order = await new_order(airside)
        await received(receiver, orders_hook, await published_ids(airside, order, count=1))
    assert (await receiver.state()).rejected == before.rejected

    await receiver.set_secrets(unrelated_secret())  # and one that knows neither refuses: the check is real
    order = await new_order(airside)
    (event_id,) = await published_ids(airside, order, count=1)
    refused = await attempted(orders_hook, event_id, at_least=1)
    assert refused["last_status_code"] == 401 and (await receiver.state()).rejected > before.rejected
    await receiver.set_secrets(new_secret)
    await received(receiver, orders_hook, {event_id})


async def test_a_receiver_failing_past_the_window_is_disabled_and_resumes_when_enabled(
    airside: Airside, receiver: ReceiverProcess, orders_hook
):
    await receiver.set_mode("fail")
    owed: set[str] = set()
    started = asyncio.get_running_loop().time()
    while (await orders_hook.held())["status"] == "active":  # events keep coming while it fails
        assert asyncio.get_running_loop().time() - started < 30, "never disabled"
        owed |= await published_ids(airside, await new_order(airside), count=1)
        await asyncio.sleep(0.5)
    held = await orders_hook.held()
    assert held["status"] == "disabled" and held["disabled_at"] and held["failing_since"], held

    (said,) = await events_about(airside.nats_url, "airside.booking.webhook.disabled", orders_hook.id)
    assert (said.data["subscription_id"], said.data["url"]) == (orders_hook.id, orders_hook.body["url"])
    pending = {d["event_id"] for d in await orders_hook.deliveries(status="pending")}
    assert pending, "the newest events are still owed, held while the subscription is disabled"

    await receiver.set_mode("ok")
    enabled = (await airside.booking.call("POST", f"/v1/webhooks/{orders_hook.id}/enable", ADMIN)).json()
    assert (enabled["status"], enabled["disabled_at"], enabled["failing_since"]) == ("active", None, None)
    state = await received(receiver, orders_hook, pending)
    assert {event["id"] for event in state.at(orders_hook.endpoint)} <= owed


async def test_a_dead_letter_is_listed_as_failed_and_delivered_when_replayed(airside: Airside, receiver: ReceiverProcess, orders_hook):
    await receiver.set_mode("fail")
    order = await new_order(airside)
    (event_id,) = await published_ids(airside, order, count=1)
    letter = await attempted(orders_hook, event_id, at_least=8, status="failed")  # the first attempt and 7 retries
    assert (letter["next_attempt_at"], letter["last_status_code"]) == (None, 500)
    assert [d["event_id"] for d in await orders_hook.deliveries(status="failed")] == [event_id]
    assert (await orders_hook.held())["status"] == "active", "the schedule ran out before the disable window"

    await receiver.set_mode("ok")
    path = f"/v1/webhooks/{orders_hook.id}/deliveries/{letter['id']}/replay"
    assert (await airside.booking.call("POST", path, ADMIN, expect=202)).json()["status"] == "pending"
    state = await received(receiver, orders_hook, {event_id})
    assert state.copies()[event_id] == 1
    await attempted(orders_hook, event_id, at_least=1, status="delivered")


async def test_the_call_center_delivers_its_own_events_the_same_way(airside: Airside, receiver: ReceiverProcess):
    subscription = await subscribe(airside.callcenter, receiver, ["airside.callcenter.ticket.*"])
    try:
        await receiver.set_mode("ok")
        await receiver.set_secrets(subscription.secret)
        before = await receiver.state()
        ticket = await airside.callcenter.open_ticket(type="inquiry", subject="Where is the lounge in T3?")
        (event,) = await events_about(airside.nats_url, "airside.callcenter.ticket.created", ticket["id"])
        state = await received(receiver, subscription, {event.id})
        (applied,) = state.at(subscription.endpoint)
        assert (applied["type"], applied["subject"], state.rejected) == ("airside.callcenter.ticket.created", ticket["id"], before.rejected)
    finally:
        await airside.callcenter.call("DELETE", f"/v1/webhooks/{subscription.id}", ADMIN, expect=204)

"""Webhook delivery (issue 13 item 2, docs/webhooks.md): a service's own events, fanned out through its inbox,
POSTed signed per Standard Webhooks to a real HTTPS receiver process that verifies every signature with the
`standardwebhooks` library; retries, dead letters, disabling, and the claims replicas share. Real NATS (one
server per test, so no test sees another's events) and a real database (PostgreSQL or SQLite)."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import select
from sqlmodel import SQLModel

from airside import clock
from airside.app import ServiceDefinition
from airside.db.database import Database
from airside.db.dependencies import SessionDep
from airside.events import booking as booking_events
from airside.messaging.outbox import OutboxEvent, record
from airside.settings import AirsideSettings
from airside.webhooks.destinations import Destination, check_destination
from airside.webhooks.dispatch import HELD_PER_SLOT, Attempt, Dispatcher, failing_too_long, http_clients, retry_at
from airside.webhooks.fanout import record_deliveries, serve, write_deliveries
from airside.webhooks.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from airside.webhooks.pinning import connecting_to
from airside_tools.testing.harness import InProcessService, fast_webhooks, in_process, nats_under, settings_for_test, wait_for
from airside_tools.webhook_receiver import Certificates, ReceiverProcess

router = APIRouter()


@router.post("/v1/stations/{code}", status_code=201)
async def announce(code: str, session: SessionDep) -> dict[str, str]:
    payload = booking_events.StationUpserted(code=code, name=f"station {code}", timezone="UTC")
    event = record(session, booking_events.station_upserted, payload, subject=code)
    await session.commit()
    return {"event_id": event.id}


class BookingLikeSettings(AirsideSettings):
    service_name: ClassVar[str] = "booking"


# Named booking: the platform gives it booking's webhook consumer (booking's stream, every booking event type).
BOOKING_LIKE = ServiceDefinition(
    name="booking", title="webhook delivery", settings_class=BookingLikeSettings, routers=[router], alembic_dir=Path("unused")
)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("webhook-tls"))


@pytest.fixture(scope="module")
def receiver(certificates: Certificates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(certificates, tmp_path_factory.mktemp("webhook-receiver"))
    process.start().wait_ready()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def healthy_receiver(receiver: ReceiverProcess) -> AsyncIterator[ReceiverProcess]:
    """The receiver answering 2xx again after a test that made it fail."""
    yield receiver
    await receiver.set_mode("ok")


async def settings_on(databases: Any, nats_url: str, certificates: Certificates, **overrides: Any) -> AirsideSettings:
    webhooks = {name.removeprefix("AIRSIDE_").lower(): value for name, value in fast_webhooks(certificates.ca_file).items()}
    settings = settings_for_test(
        BOOKING_LIKE,
        database_url=databases.create("webhooks"),
        nats_url=nats_url,
        migrate_on_start=False,
        **{**webhooks, **overrides},
    )
    db = Database(settings.database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    await db.dispose()
    return settings


@asynccontextmanager
async def delivering(tmp_path: Path, databases: Any, certificates: Certificates, **overrides: Any) -> AsyncIterator[InProcessService]:
    """The booking-like service on a NATS server and a database of its own, delivering webhooks."""
    with nats_under(tmp_path / "nats") as nats:
        settings = await settings_on(databases, nats.url, certificates, **overrides)
        async with in_process(BOOKING_LIKE, settings) as service:
            yield service


async def subscribe(service: InProcessService, url: str, event_types: list[str], **fields: Any) -> WebhookSubscription:
    subscription = WebhookSubscription(url=url, event_types=event_types, secret=fields.pop("secret", new_secret()), **fields)
    async with service.runtime.db.session() as session:
        session.add(subscription)
        await session.commit()
    return subscription


async def announce_station(service: InProcessService, code: str) -> str:
    response = await service.client.post(f"/v1/stations/{code}")
    assert response.status_code == 201, response.text
    return str(response.json()["event_id"])


async def deliveries(db: Database, subscription_id: str) -> list[WebhookDelivery]:
    async with db.session() as session:
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id).order_by(WebhookDelivery.id)
        return list((await session.execute(query)).scalars())


async def delivery_once(db: Database, subscription_id: str, done: Callable[[WebhookDelivery], bool], what: str) -> WebhookDelivery:
    """The subscription's one delivery, once `done` holds for it."""

    async def check() -> WebhookDelivery | None:
        found = await deliveries(db, subscription_id)
        return found[0] if found and done(found[0]) else None

    return await wait_for(check, timeout=10, what=what)


async def subscription_now(db: Database, subscription_id: str) -> WebhookSubscription:
    async with db.session() as session:
        found = await session.get(WebhookSubscription, subscription_id)
        assert found is not None
        return found


async def received_at(receiver: ReceiverProcess, endpoint: str, event_id: str) -> dict[str, Any] | None:
    return next((event for event in (await receiver.state()).at(endpoint) if event["id"] == event_id), None)


async def test_an_event_reaches_the_matching_subscription_signed_and_no_other(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    async with delivering(tmp_path, databases, certificates) as service:
        matching = await subscribe(service, receiver.hook_url("stations"), ["airside.booking.station.*"])
        other = await subscribe(service, receiver.hook_url("orders"), ["airside.booking.order.*"])
        await receiver.set_secrets(matching.secret, other.secret)
        rejected_before = (await receiver.state()).rejected

        event_id = await announce_station(service, "PEK")

        delivery = await delivery_once(service.runtime.db, matching.id, lambda d: d.status == DeliveryStatus.delivered, "delivered")
        assert (delivery.attempts, delivery.last_status_code) == (1, 204)
        received = await received_at(receiver, "stations", event_id)
        assert received is not None
        assert (received["type"], received["subject"], received["copies"]) == ("airside.booking.station.upserted", "PEK", 1)
        state = await receiver.state()
        assert state.rejected == rejected_before  # the receiver verified the signature with standardwebhooks
        assert state.at("orders") == []
        assert json.loads(delivery.payload)["id"] == event_id  # the body is the CloudEvent
        assert await deliveries(service.runtime.db, other.id) == []


async def test_during_the_overlap_the_old_and_the_new_secret_both_verify(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    old, new = new_secret(), new_secret()
    async with delivering(tmp_path, databases, certificates) as service:
        rotated = await subscribe(
            service,
            receiver.hook_url("rotated"),
            ["*"],
            secret=new,
            previous_secret=old,
            previous_secret_expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        rejected_before = (await receiver.state()).rejected
        for secret, code in ((old, "KMG"), (new, "CAN")):
            await receiver.set_secrets(secret)  # a partner that knows only one of the two
            event_id = await announce_station(service, code)
            await wait_for(lambda event_id=event_id: received_at(receiver, "rotated", event_id), timeout=10, what=f"{code} verified")
        assert (await receiver.state()).rejected == rejected_before

        # Past the overlap only the new secret signs: a receiver still on the old one refuses the delivery.
        async with service.runtime.db.session() as session:
            stored = await session.get(WebhookSubscription, rotated.id)
            stored.previous_secret_expires_at = datetime.now(UTC) - timedelta(seconds=1)
            await session.commit()
        await receiver.set_secrets(old)
        event_id = await announce_station(service, "SHA")

        async def refused() -> bool:
            return (await receiver.state()).rejected > rejected_before

        await wait_for(refused, timeout=10, what="the old secret refused after the overlap")
        assert await received_at(receiver, "rotated", event_id) is None


async def test_a_500_is_retried_after_the_delay_with_the_same_webhook_id(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    async with delivering(tmp_path, databases, certificates, webhook_retry_delays="1,1,1,1") as service:
        db = service.runtime.db
        flaky = await subscribe(service, receiver.hook_url("flaky"), ["airside.booking.station.upserted"])
        await receiver.set_secrets(flaky.secret)
        await receiver.set_mode("fail")

        event_id = await announce_station(service, "PVG")

        first = await delivery_once(db, flaky.id, lambda d: d.attempts >= 1, "a first, failed attempt")
        assert (first.status, first.last_status_code, first.last_error) == (DeliveryStatus.pending, 500, "HTTP 500")
        assert first.next_attempt_at - first.last_attempt_at >= timedelta(seconds=1)
        await receiver.set_mode("ok")

        delivered = await delivery_once(db, flaky.id, lambda d: d.status == DeliveryStatus.delivered, "the retried delivery")
        received = await received_at(receiver, "flaky", event_id)
        assert received is not None and delivered.attempts >= 2
        assert delivered.delivered_at >= first.last_attempt_at + timedelta(seconds=1)
        # The receiver refuses a webhook-id other than the event's id: the retry carried the same one, once applied.
        assert received["copies"] == 1
        assert (await subscription_now(db, flaky.id)).failing_since is None  # the success ended the failing spell


async def test_a_delivery_whose_retries_are_spent_is_a_dead_letter(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    async with delivering(tmp_path, databases, certificates, webhook_retry_delays="0.1,0.1") as service:
        db = service.runtime.db
        down = await subscribe(service, receiver.hook_url("down"), ["*"])
        await receiver.set_secrets(down.secret)
        await receiver.set_mode("fail")
        failed_before = (await receiver.state()).failed

        await announce_station(service, "CTU")

        letter = await delivery_once(db, down.id, lambda d: d.status == DeliveryStatus.failed, "the delivery failed for good")
        assert (letter.attempts, letter.next_attempt_at, letter.last_status_code) == (3, None, 500)
        await asyncio.sleep(0.5)  # several dispatcher passes (0.2 s apart): none attempts it again
        assert (await deliveries(db, down.id))[0].attempts == 3
        assert (await receiver.state()).failed == failed_before + 3
        assert (await subscription_now(db, down.id)).status == SubscriptionStatus.active  # failing less than the window


async def test_a_subscription_failing_longer_than_the_window_is_disabled_with_an_event(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    overrides = {"webhook_retry_delays": "0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3", "webhook_disable_after_seconds": 1.0}
    async with delivering(tmp_path, databases, certificates, **overrides) as service:
        db = service.runtime.db
        failing = await subscribe(service, receiver.hook_url("failing"), ["airside.booking.station.*"])
        await receiver.set_secrets(failing.secret)
        await receiver.set_mode("fail")

        await announce_station(service, "XIY")

        async def disabled() -> WebhookSubscription | None:
            found = await subscription_now(db, failing.id)
            return found if found.status == SubscriptionStatus.disabled else None

        stopped = await wait_for(disabled, timeout=10, what="the subscription disabled")
        assert stopped.disabled_at - stopped.failing_since >= timedelta(seconds=1)

        async def announced() -> OutboxEvent | None:
            async with db.session() as session:
                query = select(OutboxEvent).where(OutboxEvent.subject == "airside.booking.webhook.disabled")
                row = (await session.execute(query)).scalars().first()
            return row if row is not None and row.published_at is not None else None

        event = json.loads((await wait_for(announced, timeout=10, what="the disabled event published")).envelope)
        assert (event["type"], event["subject"], event["source"]) == ("airside.booking.webhook.disabled", failing.id, "airside/booking")
        assert event["data"]["subscription_id"] == failing.id and event["data"]["url"] == failing.url
        assert event["data"]["last_error"] == "HTTP 500"

        # Disabled: its delivery waits, untried, and nothing new is owed to it.
        (waiting,) = await deliveries(db, failing.id)
        await announce_station(service, "HGH")
        await asyncio.sleep(1.0)
        (still,) = await deliveries(db, failing.id)
        assert (still.status, still.attempts) == (DeliveryStatus.pending, waiting.attempts)


async def test_a_refused_destination_is_never_contacted(tmp_path, databases, certificates, healthy_receiver):
    receiver = healthy_receiver
    async with delivering(tmp_path, databases, certificates, webhook_allow_hosts="") as service:
        loopback = await subscribe(service, receiver.hook_url("loopback"), ["*"])
        await receiver.set_secrets(loopback.secret)
        before = await receiver.state()

        await announce_station(service, "SZX")

        refused = await delivery_once(service.runtime.db, loopback.id, lambda d: d.attempts >= 2, "two refused attempts")
        assert refused.last_status_code is None and "destination refused" in refused.last_error and "loopback" in refused.last_error
        after = await receiver.state()
        assert (after.events, after.rejected, after.failed) == (before.events, before.rejected, before.failed)


async def test_a_named_destination_is_called_at_the_address_it_was_checked_at(tmp_path, databases, certificates, healthy_receiver):
    """DNS rebinding: the name is resolved once, by the check, and the connection goes to the address checked;
    TLS is still verified for the name."""
    receiver = healthy_receiver
    named = f"https://localhost:{receiver.port}/hooks/named"
    # Allowed by the address localhost resolves to, not by the name: the check resolves it and pins the address.
    async with delivering(tmp_path, databases, certificates, webhook_allow_hosts="127.0.0.0/8") as service:
        destination = await check_destination(named, service.runtime.settings)
        assert destination.address == ipaddress.ip_address("127.0.0.1")
        subscription = await subscribe(service, named, ["airside.booking.station.*"])
        await receiver.set_secrets(subscription.secret)
        event_id = await announce_station(service, "CAN")
        delivered = await delivery_once(service.runtime.db, subscription.id, lambda d: d.status == DeliveryStatus.delivered, "delivered")
        assert delivered.last_status_code == 204 and await received_at(receiver, "named", event_id) is not None

        # The connection goes where the check said, whatever the name resolves to now: here 127.0.0.2, where
        # nothing listens (the receiver is on 127.0.0.1), so the request cannot have resolved localhost again.
        (client, *others) = http_clients(service.runtime.settings)
        try:
            with connecting_to(Destination(destination.url, ipaddress.ip_address("127.0.0.2"))):
                with pytest.raises(httpx.ConnectError):
                    await client.post(named, content=b"{}")
            with connecting_to(destination):
                assert (await client.post(named, content=b"{}")).status_code == 401  # reached, unsigned
        finally:
            await asyncio.gather(*(each.aclose() for each in (client, *others)))


# --- claims shared by replicas, and the lease --------------------------------------------------------------


@pytest.fixture
async def claims_db(databases, certificates) -> AsyncIterator[tuple[Database, AirsideSettings]]:
    settings = await settings_on(databases, "nats://127.0.0.1:1", certificates, webhook_timeout_seconds=1)
    db = Database(settings.database_url)
    try:
        yield db, settings
    finally:
        clock.override = None
        await db.dispose()


async def owe(db: Database, count: int, *, status: str = SubscriptionStatus.active) -> WebhookSubscription:
    subscription = WebhookSubscription(url="https://partner.example.com/hooks", event_types=["*"], secret=new_secret(), status=status)
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add(subscription)
        for index in range(count):
            session.add(
                WebhookDelivery(
                    subscription_id=subscription.id,
                    event_id=f"{subscription.id[:8]}-{index}",
                    event_type="airside.booking.station.upserted",
                    payload="{}",
                    next_attempt_at=now,
                )
            )
        await session.commit()
    return subscription


async def test_two_replicas_never_claim_the_same_delivery(claims_db):
    db, settings = claims_db
    await owe(db, 30)
    await owe(db, 5, status=SubscriptionStatus.disabled)
    replicas = [Dispatcher(db, settings), Dispatcher(db, settings)]

    first, second = await asyncio.gather(*(replica.claim(20) for replica in replicas))

    ids = [(claimed.subscription.id, claimed.event_id) for claimed in first + second]
    assert len(ids) == len(set(ids)) == 30  # every due delivery of the active subscription once, none of the disabled one
    assert await replicas[0].claim(20) == []  # leased: not due again yet


async def test_a_claim_whose_worker_died_comes_due_after_its_lease_and_a_late_answer_is_ignored(claims_db):
    db, settings = claims_db
    owed = await owe(db, 1)
    crashed, survivor = Dispatcher(db, settings), Dispatcher(db, settings)
    (lost,) = await crashed.claim(10)
    assert await survivor.claim(10) == []

    clock.override = lost.lease + timedelta(seconds=1)
    (taken,) = await survivor.claim(10)
    assert (taken.subscription.id, taken.event_id) == (lost.subscription.id, lost.event_id)

    # The first worker's answer arrives late, while the survivor's attempt is in flight: it changes nothing.
    await crashed.record(lost, Attempt(datetime.now(UTC), status_code=500, error="HTTP 500"))
    (delivery,) = await deliveries(db, owed.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.pending, 0, None)
    assert delivery.next_attempt_at == taken.lease

    await survivor.record(taken, Attempt(datetime.now(UTC), status_code=204))
    (delivery,) = await deliveries(db, owed.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.delivered, 1, 204)


async def test_a_delivery_handed_to_a_worker_that_died_is_claimed_after_its_lease(claims_db):
    db, settings = claims_db
    owed = await owe(db, 0)
    crashed = Dispatcher(db, settings)
    stop_serving = serve(db.engine, crashed)  # the fan-out of its process hands it new deliveries; it never sends them
    station = booking_events.StationUpserted(code="WUH", name="Wuhan", timezone="Asia/Shanghai")
    event, rolled_back = (booking_events.station_upserted.build(station, subject="WUH", source="airside/booking") for _ in range(2))
    try:
        async with db.session() as session:
            await record_deliveries(session, event)
            await write_deliveries(session)  # as the consumer does before its commit
            await session.commit()
        async with db.session() as session:  # a fan-out whose transaction fails owes nothing, and keeps no room
            await record_deliveries(session, rolled_back)
            await write_deliveries(session)
            await session.rollback()
    finally:
        stop_serving()
    (delivery,) = await deliveries(db, owed.id)
    assert delivery.event_id == event.id
    room = HELD_PER_SLOT * settings.webhook_concurrency - 1  # all it may hold but the one handed delivery
    assert crashed.lease_for(room + 1) is None
    assert crashed.lease_for(room) is not None

    survivor = Dispatcher(db, settings)
    assert await survivor.claim(10) == []  # leased to the worker it was handed to
    clock.override = delivery.next_attempt_at + timedelta(seconds=1)
    (taken,) = await survivor.claim(10)
    assert (taken.subscription.id, taken.event_id, taken.attempts) == (owed.id, event.id, 0)


def test_each_failed_attempt_waits_the_next_delay_and_the_last_one_ends_the_schedule():
    delays = [5, 300, 1800]
    failed_at = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
    assert [retry_at(attempts, delays, failed_at) for attempts in (1, 2, 3, 4)] == [
        failed_at + timedelta(seconds=5),
        failed_at + timedelta(seconds=300),
        failed_at + timedelta(seconds=1800),
        None,
    ]


def test_a_subscription_is_disabled_once_it_has_failed_for_the_whole_window():
    since = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
    assert not failing_too_long(since, since + timedelta(hours=23, minutes=59), 86400)
    assert failing_too_long(since, since + timedelta(hours=24), 86400)

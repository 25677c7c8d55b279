"""The webhook subscription API over HTTP, as every service serves it for its own events (docs/webhooks.md):
booking in-process with its real lifespan and migrations, on a database and a NATS server of this module's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from booking_support import ADMIN
from sqlmodel import select
from standardwebhooks import Webhook

from airside.db.columns import utcnow
from airside.webhooks.models import WebhookDelivery, WebhookSubscription
from airside_tools.testing.conditional_get import assert_conditional_get, declares_conditional_get
from airside_tools.testing.harness import InProcessService, auth, in_process, nats_under, settings_for_test
from booking.main import SERVICE

OVERLAP_SECONDS = 3600
# Nothing listens on port 9 of this machine: a delivery the dispatcher attempts fails, and waits a long retry.
CLOSED = "https://localhost:9/hooks"
ORDERS = ["airside.booking.order.*"]
MANAGER = auth("station_manager", stations=["PEK"])


@pytest.fixture(scope="module")
async def booking_webhooks(databases, tmp_path_factory) -> AsyncIterator[InProcessService]:
    with nats_under(tmp_path_factory.mktemp("webhooks-nats")) as server:
        settings = settings_for_test(
            SERVICE,
            database_url=databases.create("booking_webhooks"),
            nats_url=server.url,
            webhook_allow_hosts=["LocalHost", "10.0.0.0/8"],
            webhook_secret_overlap_seconds=OVERLAP_SECONDS,
            webhook_retry_delays=[3600.0],
        )
        async with in_process(SERVICE, settings) as service:
            yield service


@pytest.fixture
def client(booking_webhooks) -> httpx.AsyncClient:
    return booking_webhooks.client


async def subscribe(client: httpx.AsyncClient, url: str = CLOSED, event_types: list[str] = ORDERS, **extra) -> httpx.Response:
    return await client.post("/v1/webhooks", json={"url": url, "event_types": event_types, **extra}, headers=ADMIN)


async def created(client: httpx.AsyncClient, **extra) -> dict:
    response = await subscribe(client, **extra)
    assert response.status_code == 201, response.text
    return response.json()


async def stored(service: InProcessService, subscription_id: str) -> WebhookSubscription | None:
    async with service.runtime.db.session() as session:
        return await session.get(WebhookSubscription, subscription_id)


async def owed(service: InProcessService, subscription_id: str, *statuses: str) -> list[int]:
    """Deliveries written as the fan-out writes them, one per status, oldest first."""
    ids = []
    async with service.runtime.db.session() as session:
        for status in statuses:
            event_id = str(uuid.uuid4())
            delivery = WebhookDelivery(
                subscription_id=subscription_id,
                event_id=event_id,
                event_type="airside.booking.order.created",
                payload=f'{{"id": "{event_id}"}}',
                status=status,
                attempts=8 if status == "failed" else 1,
                next_attempt_at=utcnow() + timedelta(hours=1) if status == "pending" else None,
                delivered_at=utcnow() if status == "delivered" else None,
            )
            session.add(delivery)
            await session.flush()
            ids.append(delivery.id)
        await session.commit()
    return ids


async def test_a_subscription_is_created_with_its_secret_shown_once(client, booking_webhooks):
    response = await subscribe(client, description="Partner CRM")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"] == CLOSED and body["event_types"] == ORDERS and body["status"] == "active" and body["description"] == "Partner CRM"
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"]).sign(body["id"], datetime.now(UTC), "{}")  # the library takes it as it is
    assert response.headers["location"].endswith(f"/v1/webhooks/{body['id']}")

    read = await client.get(response.headers["location"], headers=ADMIN)
    assert read.status_code == 200 and "secret" not in read.json()
    assert {key: value for key, value in body.items() if key != "secret"} == read.json()
    listed = (await client.get("/v1/webhooks", params={"limit": 200}, headers=ADMIN)).json()["items"]
    assert [item for item in listed if item["id"] == body["id"]] == [read.json()]
    assert all("secret" not in item for item in listed)
    assert (await stored(booking_webhooks, body["id"])).secret == body["secret"]
    document = (await client.get("/openapi.json")).json()
    assert declares_conditional_get(document["paths"]["/v1/webhooks/{webhook_id}"]["get"])
    await assert_conditional_get(client, f"/v1/webhooks/{body['id']}", ADMIN)


async def test_a_retried_creation_with_its_idempotency_key_answers_the_first_and_creates_one(client):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"url": CLOSED, "event_types": ORDERS}
    first = await client.post("/v1/webhooks", json=body, headers={**ADMIN, **key})
    again = await client.post("/v1/webhooks", json=body, headers={**ADMIN, **key})
    assert first.status_code == again.status_code == 201 and again.headers["idempotent-replay"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    listed = (await client.get("/v1/webhooks", params={"limit": 200}, headers=ADMIN)).json()["items"]
    assert [item["id"] for item in listed].count(first.json()["id"]) == 1


@pytest.mark.parametrize(
    ("event_types", "named"),
    [
        (["airside.lounge.visit.*"], "'airside.lounge.visit.*' selects none of the events booking publishes"),
        (["airside.booking.order.created", "Orders please"], "event_types[1]: 'Orders please' is not an event type"),
        (["airside.booking.nothing_like_this"], "'airside.booking.nothing_like_this' selects none"),
    ],
)
async def test_a_filter_that_selects_none_of_the_services_events_is_refused_naming_it(client, event_types, named):
    response = await subscribe(client, event_types=event_types)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "/problems/validation_error"
    assert [error["field"] for error in response.json()["errors"]] == ["body.event_types"]
    assert named in response.json()["errors"][0]["message"]


async def test_filters_are_a_non_empty_list(client):
    response = await subscribe(client, event_types=[])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.event_types"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1:8443/hooks", "127.0.0.1 is a loopback address"),  # allowed by name only as localhost
        ("https://[::ffff:127.0.0.1]/hooks", "is a loopback address"),
        ("https://192.168.1.20/hooks", "192.168.1.20 is a private address"),
        ("https://169.254.169.254/latest/meta-data", "is a link-local address"),
        ("http://localhost:9/hooks", "must start with https://"),
        ("https://admin:pw@localhost:9/hooks", "user name or password"),
        ("https://no-such-host.invalid/hooks", "no-such-host.invalid does not resolve"),
    ],
)
async def test_a_destination_webhooks_may_not_go_to_is_refused_saying_why(client, url, says):
    response = await subscribe(client, url=url)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "body.url" and error["type"] == "destination_refused" and says in error["message"]


@pytest.mark.parametrize("url", ["https://localhost:9/hooks", "https://LOCALHOST:9/hooks", "https://10.20.30.40/hooks"])
async def test_the_allowlist_lets_a_host_through_by_its_name_or_a_cidr_holding_its_address(client, url):
    assert (await subscribe(client, url=url)).status_code == 201


async def test_subscriptions_are_listed_in_pages(client):
    mine = {(await created(client))["id"] for _ in range(3)}
    seen, cursor = [], None
    while True:
        page = (await client.get("/v1/webhooks", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=ADMIN)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert mine <= set(seen) and len(seen) == len(set(seen))


async def test_a_rotation_shows_the_new_secret_once_and_keeps_the_old_one_signing_for_the_overlap(client, booking_webhooks):
    subscription = await created(client)
    rotated = await client.post(f"/v1/webhooks/{subscription['id']}/rotate-secret", headers=ADMIN)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != subscription["secret"]
    row = await stored(booking_webhooks, subscription["id"])
    assert row.secret == new and row.previous_secret == subscription["secret"]
    expected_expiry = datetime.now(UTC) + timedelta(seconds=OVERLAP_SECONDS)
    assert abs((row.previous_secret_expires_at - expected_expiry).total_seconds()) < 30
    assert "secret" not in (await client.get(f"/v1/webhooks/{subscription['id']}", headers=ADMIN)).json()

    again = (await client.post(f"/v1/webhooks/{subscription['id']}/rotate-secret", headers=ADMIN)).json()["secret"]
    row = await stored(booking_webhooks, subscription["id"])
    assert row.secret == again and row.previous_secret == new  # the one before is gone


async def test_a_retried_rotation_with_its_idempotency_key_rotates_once(client, booking_webhooks):
    subscription = await created(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(f"/v1/webhooks/{subscription['id']}/rotate-secret", headers={**ADMIN, **key})
    again = await client.post(f"/v1/webhooks/{subscription['id']}/rotate-secret", headers={**ADMIN, **key})
    assert again.json()["secret"] == first.json()["secret"]
    row = await stored(booking_webhooks, subscription["id"])
    assert row.secret == first.json()["secret"] and row.previous_secret == subscription["secret"]


async def test_deleting_a_subscription_deletes_its_deliveries(client, booking_webhooks):
    subscription, other = await created(client), await created(client)
    await owed(booking_webhooks, subscription["id"], "pending", "failed", "delivered")
    kept = await owed(booking_webhooks, other["id"], "failed")
    assert (await client.delete(f"/v1/webhooks/{subscription['id']}", headers=ADMIN)).status_code == 204
    async with booking_webhooks.runtime.db.session() as session:
        rows = (await session.execute(select(WebhookDelivery.id, WebhookDelivery.subscription_id))).all()
    assert [row.id for row in rows if row.subscription_id == subscription["id"]] == []
    assert [row.id for row in rows if row.subscription_id == other["id"]] == kept
    for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/rotate-secret"), ("POST", "/enable")):
        response = await client.request(method, f"/v1/webhooks/{subscription['id']}{path}", headers=ADMIN)
        assert response.status_code == 404 and response.json()["type"] == "/problems/not_found", (method, path)


async def test_the_delivery_log_is_newest_first_filtered_by_status_and_paged(client, booking_webhooks):
    subscription = await created(client)
    pending, failed, delivered, failed_later = await owed(booking_webhooks, subscription["id"], "pending", "failed", "delivered", "failed")
    path = f"/v1/webhooks/{subscription['id']}/deliveries"
    everything = (await client.get(path, headers=ADMIN)).json()
    assert [item["id"] for item in everything["items"]] == [failed_later, delivered, failed, pending]
    assert everything["items"][0]["subscription_id"] == subscription["id"] and "payload" not in everything["items"][0]
    first = (await client.get(path, params={"status": "failed", "limit": 1}, headers=ADMIN)).json()
    assert [item["id"] for item in first["items"]] == [failed_later] and first["next_cursor"]
    rest = (await client.get(path, params={"status": "failed", "limit": 1, "cursor": first["next_cursor"]}, headers=ADMIN)).json()
    assert [item["id"] for item in rest["items"]] == [failed] and rest["next_cursor"] is None
    assert (await client.get(path, params={"status": "lost"}, headers=ADMIN)).status_code == 422


async def test_a_failed_or_delivered_delivery_is_replayed_and_a_pending_one_is_refused(client, booking_webhooks):
    subscription, other = await created(client), await created(client)
    pending, failed, delivered = await owed(booking_webhooks, subscription["id"], "pending", "failed", "delivered")
    base = f"/v1/webhooks/{subscription['id']}/deliveries"
    for delivery_id in (failed, delivered):
        replayed = await client.post(f"{base}/{delivery_id}/replay", headers=ADMIN)
        assert replayed.status_code == 202, replayed.text
        body = replayed.json()
        assert body["status"] == "pending" and body["attempts"] == 0 and body["delivered_at"] is None
        assert abs((datetime.fromisoformat(body["next_attempt_at"]) - datetime.now(UTC)).total_seconds()) < 30
    refused = await client.post(f"{base}/{pending}/replay", headers=ADMIN)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/illegal_transition"
    assert refused.json()["current_status"] == "pending"
    again = await client.post(f"{base}/{failed}/replay", headers=ADMIN)  # it is pending now
    assert again.status_code == 409
    # A delivery is replayed only under its own subscription.
    elsewhere = await client.post(f"/v1/webhooks/{other['id']}/deliveries/{delivered}/replay", headers=ADMIN)
    assert elsewhere.status_code == 404
    assert (await client.post(f"{base}/{2**31 - 1}/replay", headers=ADMIN)).status_code == 404


async def test_enabling_a_disabled_subscription_makes_it_active_and_forgets_its_failures(client, booking_webhooks):
    subscription = await created(client)
    async with booking_webhooks.runtime.db.session() as session:
        row = await session.get(WebhookSubscription, subscription["id"])
        row.status, row.disabled_at, row.failing_since = "disabled", utcnow(), utcnow() - timedelta(days=1)
        session.add(row)
        await session.commit()
    assert (await client.get(f"/v1/webhooks/{subscription['id']}", headers=ADMIN)).json()["status"] == "disabled"
    enabled = await client.post(f"/v1/webhooks/{subscription['id']}/enable", headers=ADMIN)
    assert enabled.status_code == 200, enabled.text
    body = enabled.json()
    assert body["status"] == "active" and body["disabled_at"] is None and body["failing_since"] is None and "secret" not in body
    assert (await client.post(f"/v1/webhooks/{subscription['id']}/enable", headers=ADMIN)).json() == body  # active stays as it is


async def test_ids_in_the_path_are_checked(client):
    assert (await client.get("/v1/webhooks/not-a-uuid", headers=ADMIN)).status_code == 422
    assert (await client.get(f"/v1/webhooks/{uuid.uuid4()}", headers=ADMIN)).status_code == 404
    subscription = await created(client)
    for delivery_id in ("0", str(2**31), "x"):
        response = await client.post(f"/v1/webhooks/{subscription['id']}/deliveries/{delivery_id}/replay", headers=ADMIN)
        assert response.status_code == 422, delivery_id


async def test_only_an_admin_may_use_the_webhook_routes(client):
    subscription = await created(client)
    base = f"/v1/webhooks/{subscription['id']}"
    routes = [
        ("POST", "/v1/webhooks", {"url": CLOSED, "event_types": ORDERS}),
        ("GET", "/v1/webhooks", None),
        ("GET", base, None),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/enable", None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/deliveries/1/replay", None),
    ]
    for method, path, body in routes:
        for caller, status in ((MANAGER, 403), (auth("service", stations=["*"]), 403), ({}, 401)):
            response = await client.request(method, path, json=body, headers=caller)
            assert response.status_code == status, (method, path, caller, response.text)
    assert (await client.get(base, headers=ADMIN)).status_code == 200  # nothing was deleted

"""Partners' webhook subscriptions, as an admin manages them (docs/webhooks.md). Nothing here commits:
the route's transaction does, with its idempotency record."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from airside.db.columns import utcnow
from airside.problems import FieldError, Problem, conflict, not_found
from airside.settings import AirsideSettings
from airside.webhooks.destinations import DestinationRefused, check_destination
from airside.webhooks.fanout import wake_after_commit
from airside.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionCreate,
)
from airside.webhooks.patterns import filter_problems

SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64


def new_secret() -> str:
    """A signing secret in Standard Webhooks' `whsec_<base64>` form (the standardwebhooks package has no generator)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def invalid_body(field: str, messages: list[str], type_: str) -> Problem:
    errors = [FieldError(field=f"body.{field}", message=message, type=type_) for message in messages]
    return Problem(422, "validation_error", "; ".join(messages), title="Invalid request", errors=errors)


async def create_subscription(
    session: AsyncSession, body: WebhookSubscriptionCreate, *, service: str, settings: AirsideSettings
) -> WebhookSubscription:
    """A subscription to the filters' events of `service`, to a destination webhooks may go to."""
    if problems := filter_problems(service, body.event_types):
        raise invalid_body("event_types", problems, "unknown_event_type")
    try:
        await check_destination(body.url, settings)
    except DestinationRefused as exc:
        raise invalid_body("url", [str(exc)], "destination_refused") from exc
    subscription = WebhookSubscription(url=body.url, event_types=body.event_types, description=body.description, secret=new_secret())
    session.add(subscription)
    await session.flush()
    return subscription


async def list_subscriptions(session: AsyncSession, *, after: tuple[datetime, str] | None, limit: int) -> list[WebhookSubscription]:
    """Oldest first, by (created_at, id); `limit + 1` rows, so the page knows whether another follows."""
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id).limit(limit + 1)  # type: ignore[arg-type]
    if after is not None:
        query = query.where(tuple_(WebhookSubscription.created_at, WebhookSubscription.id) > tuple_(*after))
    return list((await session.execute(query)).scalars().all())


async def get_subscription(session: AsyncSession, subscription_id: str) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise not_found("webhook subscription")
    return subscription


async def delete_subscription(session: AsyncSession, subscription_id: str) -> None:
    """The subscription and every delivery owed to it, in the caller's transaction."""
    await get_subscription(session, subscription_id)
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id))  # type: ignore[arg-type]
    await session.execute(delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id))  # type: ignore[arg-type]


async def rotate_secret(session: AsyncSession, subscription_id: str, *, settings: AirsideSettings) -> WebhookSubscription:
    """A new secret; the one it replaces keeps signing beside it for the overlap window.

    One UPDATE that moves the stored secret, so two rotations at once leave each new secret either
    current or in its overlap, never lost."""
    now = utcnow()
    statement = (
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)  # type: ignore[arg-type]
        .values(
            previous_secret=WebhookSubscription.secret,
            previous_secret_expires_at=now + timedelta(seconds=settings.webhook_secret_overlap_seconds),
            secret=new_secret(),
            updated_at=now,
        )
    )
    if (await session.execute(statement)).rowcount == 0:  # type: ignore[attr-defined]
        raise not_found("webhook subscription")
    subscription = await session.get(WebhookSubscription, subscription_id, populate_existing=True)
    assert subscription is not None  # updated just now, in this transaction
    return subscription


async def enable_subscription(session: AsyncSession, subscription_id: str) -> WebhookSubscription:
    """A disabled subscription active again, its failures forgotten; an active one is left as it is."""
    subscription = await get_subscription(session, subscription_id)
    if subscription.status == SubscriptionStatus.disabled:
        subscription.status = SubscriptionStatus.active
        subscription.disabled_at = None
        subscription.failing_since = None
        subscription.updated_at = utcnow()
        session.add(subscription)
        await session.flush()
        wake_after_commit(session)  # what it was owed while disabled goes out now
    return subscription


async def list_deliveries(
    session: AsyncSession, subscription_id: str, *, status: DeliveryStatus | None, before_id: int | None, limit: int
) -> list[WebhookDelivery]:
    """One subscription's delivery log, newest first; `limit + 1` rows."""
    await get_subscription(session, subscription_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())  # type: ignore[union-attr]
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)  # type: ignore[operator]
    return list((await session.execute(query)).scalars().all())


async def replay_delivery(session: AsyncSession, subscription_id: str, delivery_id: int) -> WebhookDelivery:
    """A delivered or failed delivery due again now, with a fresh set of retries."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise not_found("webhook delivery")
    if delivery.status == DeliveryStatus.pending:
        raise conflict(
            "illegal_transition", "the delivery is pending: it is attempted again when due, replay is for one delivered or failed",
            current_status=delivery.status,
        )  # fmt: skip
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.delivered_at = None
    session.add(delivery)
    await session.flush()
    wake_after_commit(session)
    return delivery

"""The webhook subscription routes every service serves, for its own events; admin only (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import AwareDatetime, Field

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import RecordId
from airside.webhooks import service
from airside.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryPublic,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
    WebhookSubscriptionWithSecret,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

AdminOnly = Annotated[Principal, Depends(require(Role.admin))]
WebhookId = Annotated[uuid.UUID, Path(description="The subscription's id", examples=["3f2c9a1e-8b7d-4c6e-9f10-2a4b6c8d0e1f"])]
DeliveryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The delivery's id, from the delivery log")]  # a 32-bit column
LOCATION = {"Location": {"description": "The new subscription's URL", "schema": {"type": "string"}, "required": True}}


def _public(subscription: WebhookSubscription) -> WebhookSubscriptionPublic:
    return WebhookSubscriptionPublic.model_validate(subscription, from_attributes=True)


def _with_secret(subscription: WebhookSubscription) -> WebhookSubscriptionWithSecret:
    return WebhookSubscriptionWithSecret.model_validate(subscription, from_attributes=True)


def _delivery(delivery: WebhookDelivery) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic.model_validate(delivery, from_attributes=True)


@router.post(
    "",
    summary="Register a webhook subscription",
    status_code=201,
    response_model=WebhookSubscriptionWithSecret,
    responses={201: {"headers": LOCATION}},
)
async def create_webhook(
    body: WebhookSubscriptionCreate, request: Request, session: SessionDep, _admin: AdminOnly, idempotency: IdempotencyDep
) -> Response:
    """Deliver this service's events that match `event_types` to `url`, signed per Standard Webhooks. The
    answer holds the signing secret: the only time it is shown (rotate it to get a new one)."""

    async def act() -> WebhookSubscriptionWithSecret:
        subscription = await service.create_subscription(
            session, body, service=request.app.state.service_name, settings=request.app.state.runtime.settings
        )
        return _with_secret(subscription)

    def location(created: WebhookSubscriptionWithSecret) -> dict[str, str]:
        return {"Location": str(request.url_for("get_webhook", webhook_id=created.id))}

    return await idempotency.execute(session, act, status_code=201, headers=location)


@router.get("", summary="List webhook subscriptions")
async def list_webhooks(
    session: SessionDep, _admin: AdminOnly, cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)], limit: LimitQuery = 50
) -> Page[WebhookSubscriptionPublic]:
    """Every subscription to this service's events, oldest first (no secrets)."""
    rows = await service.list_subscriptions(session, after=cursor.after, limit=limit)
    kept, next_cursor = cursor.page(rows, limit, lambda subscription: (subscription.created_at, subscription.id))
    return Page(items=[_public(subscription) for subscription in kept], next_cursor=next_cursor)


@router.get("/{webhook_id}", summary="Read a webhook subscription", response_model=WebhookSubscriptionPublic, responses=CONDITIONAL_GET)
async def get_webhook(webhook_id: WebhookId, session: SessionDep, _admin: AdminOnly, if_none_match: IfNoneMatch = None) -> Response:
    """One subscription: its filters, status and failures (never its secret)."""
    subscription = await service.get_subscription(session, str(webhook_id))
    return conditional.answer(WebhookSubscriptionPublic, _public(subscription), if_none_match)


@router.delete("/{webhook_id}", summary="Delete a webhook subscription", status_code=204, response_class=Response)
async def delete_webhook(webhook_id: WebhookId, session: SessionDep, _admin: AdminOnly) -> Response:
    """The subscription and its delivery log: nothing more is sent to it."""
    await service.delete_subscription(session, str(webhook_id))
    await session.commit()
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", summary="Rotate a webhook subscription's secret")
async def rotate_webhook_secret(
    webhook_id: WebhookId, request: Request, session: SessionDep, _admin: AdminOnly, idempotency: IdempotencyDep
) -> WebhookSubscriptionWithSecret:
    """A new signing secret, shown once. Deliveries carry a signature by the old secret too until the
    overlap window ends (AIRSIDE_WEBHOOK_SECRET_OVERLAP_SECONDS), so the receiver can switch at leisure."""

    async def act() -> WebhookSubscriptionWithSecret:
        settings = request.app.state.runtime.settings
        return _with_secret(await service.rotate_secret(session, str(webhook_id), settings=settings))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{webhook_id}/enable", summary="Enable a disabled webhook subscription")
async def enable_webhook(
    webhook_id: WebhookId, session: SessionDep, _admin: AdminOnly, idempotency: IdempotencyDep
) -> WebhookSubscriptionPublic:
    """Deliver to a subscription again after it was disabled for a day of failures (an active one stays as it is).
    Its failed deliveries stay failed: replay those it should still get."""

    async def act() -> WebhookSubscriptionPublic:
        return _public(await service.enable_subscription(session, str(webhook_id)))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.get("/{webhook_id}/deliveries", summary="List a webhook subscription's deliveries")
async def list_webhook_deliveries(
    webhook_id: WebhookId,
    session: SessionDep,
    _admin: AdminOnly,
    cursor: Annotated[Keyset, keyset(Annotated[int, Field(ge=1, le=2**31 - 1)])],
    status: DeliveryStatus | None = None,
    limit: LimitQuery = 50,
) -> Page[WebhookDeliveryPublic]:
    """The subscription's delivery log, newest first: each event owed to it, its attempts and their outcome.
    `status=failed` lists its dead letters, the deliveries whose retries are spent."""
    before_id = cursor.after[0] if cursor.after is not None else None
    rows = await service.list_deliveries(session, str(webhook_id), status=status, before_id=before_id, limit=limit)
    kept, next_cursor = cursor.page(rows, limit, lambda delivery: (delivery.id,))
    return Page(items=[_delivery(delivery) for delivery in kept], next_cursor=next_cursor)


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", summary="Replay a webhook delivery", status_code=202)
async def replay_webhook_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep, _admin: AdminOnly, idempotency: IdempotencyDep
) -> WebhookDeliveryPublic:
    """Send a delivered or failed delivery again, now and with a full set of retries; the receiver tells it
    from the first by its `webhook-id`, the event's id. A pending one is already on its way (409)."""

    async def act() -> WebhookDeliveryPublic:
        return _delivery(await service.replay_delivery(session, str(webhook_id), delivery_id))

    return await idempotency.execute(session, act, status_code=202)  # type: ignore[return-value]

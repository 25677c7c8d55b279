"""A partner's subscription to this service's events, and one row per event owed to it (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, StringConstraints
from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.types import IsoDateTime


class SubscriptionStatus(StrEnum):
    active = "active"
    # After a day of failed deliveries (or by an admin): nothing new is owed to it until it is enabled again.
    disabled = "disabled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    # Every retry spent: a dead letter of this subscription, replayable.
    failed = "failed"


class WebhookSubscriptionBase(SQLModel):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_type=JSON)
    description: str | None = Field(default=None, max_length=500)


class WebhookSubscription(WebhookSubscriptionBase, table=True):
    __tablename__ = "webhook_subscription"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    status: str = Field(default=SubscriptionStatus.active, max_length=20)
    # Standard Webhooks' `whsec_<base64>` form. Kept readable: every delivery is signed with it.
    secret: str = Field(max_length=100)
    # After a rotation the old secret signs too, beside the new one, until it expires.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The first failure since the last success; a day of it disables the subscription.
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one subscription: its attempts, and their outcome."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        # The dispatcher's question: which pending deliveries are due.
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: deleting a subscription deletes its deliveries in the same transaction (service.py).
    subscription_id: str = Field(max_length=36, index=True)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    # The CloudEvent exactly as it was published: the request body, byte for byte on every attempt.
    payload: str = Field(sa_type=Text)
    status: str = Field(default=DeliveryStatus.pending, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


SUBSCRIPTION_EXAMPLE = {
    "id": "3f2c9a1e-8b7d-4c6e-9f10-2a4b6c8d0e1f",
    "url": "https://partner.example.com/airside/webhooks",
    "event_types": ["airside.booking.order.*"],
    "description": "Partner CRM: order updates",
    "status": "active",
    "failing_since": None,
    "disabled_at": None,
    "created_at": "2026-12-24T02:00:00Z",
}
Filter = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class WebhookSubscriptionCreate(WebhookSubscriptionBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "url": "https://partner.example.com/airside/webhooks",
                    "event_types": ["airside.booking.order.*"],
                    "description": "Partner CRM: order updates",
                }
            ]
        }
    )

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="An https URL whose host resolves to public addresses only (docs/webhooks.md, AIRSIDE_WEBHOOK_ALLOW_HOSTS)",
    )
    event_types: list[Filter] = Field(
        min_length=1,
        max_length=50,
        description="Which of this service's events to deliver: an event type, a prefix ending in `.*`, or `*`",
    )


class WebhookSubscriptionPublic(WebhookSubscriptionBase):
    model_config = ConfigDict(json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    id: str
    status: SubscriptionStatus
    failing_since: IsoDateTime | None = Field(description="The first failed delivery since the last success")
    disabled_at: IsoDateTime | None
    created_at: IsoDateTime


class WebhookSubscriptionWithSecret(WebhookSubscriptionPublic):
    """The answer to creating a subscription or rotating its secret: the only time the secret is shown."""

    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{**SUBSCRIPTION_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6Eli6c2dXqY="}]}
    )

    secret: str = Field(description="Standard Webhooks' `whsec_<base64>` signing secret: keep it, it is not shown again")


class WebhookDeliveryPublic(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "id": 4821,
                    "subscription_id": "3f2c9a1e-8b7d-4c6e-9f10-2a4b6c8d0e1f",
                    "event_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                    "event_type": "airside.booking.order.created",
                    "status": "failed",
                    "attempts": 8,
                    "next_attempt_at": None,
                    "last_attempt_at": "2026-12-25T05:10:00Z",
                    "last_status_code": 503,
                    "last_error": "HTTP 503 from the destination",
                    "delivered_at": None,
                    "created_at": "2026-12-24T02:00:00Z",
                }
            ]
        }
    )

    id: int
    subscription_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: IsoDateTime | None
    last_attempt_at: IsoDateTime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: IsoDateTime | None
    created_at: IsoDateTime

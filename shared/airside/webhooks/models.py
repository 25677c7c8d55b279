"""A partner's subscription to this service's events, and one row per event owed to it (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

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


class WebhookSubscriptionCreate(WebhookSubscriptionBase):
    pass


class WebhookSubscriptionPublic(WebhookSubscriptionBase):
    id: str
    status: SubscriptionStatus
    failing_since: IsoDateTime | None
    disabled_at: IsoDateTime | None
    created_at: IsoDateTime


class WebhookSubscriptionWithSecret(WebhookSubscriptionPublic):
    """The answer to creating a subscription or rotating its secret: the only time the secret is shown."""

    secret: str


class WebhookDeliveryPublic(SQLModel):
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

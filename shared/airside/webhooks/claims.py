"""A delivery a worker has taken, until its lease ends (docs/webhooks.md, "Replicas, crashes and the lease")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from airside.webhooks.models import WebhookSubscription


@dataclass(frozen=True)
class Claimed:
    """Taken until `lease`, the delivery's `next_attempt_at` now: the claim's token, which every write of its
    outcome checks. Named by its unique key, (subscription, event)."""

    subscription: WebhookSubscription
    event_id: str
    payload: str
    attempts: int
    lease: datetime
    created_at: datetime

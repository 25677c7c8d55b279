"""The headers of one delivery attempt, per the Standard Webhooks specification (docs/webhooks.md).

Signatures come from the `standardwebhooks` library, the one receivers verify with: never HMAC by hand.
"""

from __future__ import annotations

from datetime import datetime

from standardwebhooks import Webhook

from airside.webhooks.models import WebhookSubscription

# The body is the CloudEvent in structured mode, so it is labelled as the CloudEvents HTTP binding labels it.
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def signing_secrets(subscription: WebhookSubscription, at: datetime) -> list[str]:
    """The current secret and, during the overlap after a rotation, the previous one."""
    secrets = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > at:
        secrets.append(subscription.previous_secret)
    return secrets


def delivery_headers(subscription: WebhookSubscription, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """`webhook-id` is the event's id on every attempt (receivers de-duplicate by it); the timestamp is the attempt's."""
    at = at.replace(microsecond=0)  # the header carries whole seconds, and the signature signs the same
    signatures = " ".join(Webhook(secret).sign(event_id, at, body) for secret in signing_secrets(subscription, at))
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }

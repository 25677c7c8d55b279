"""The event each service emits when it disables a partner's webhook subscription (docs/webhooks.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from airside.messaging.envelope import EventDefinition, define
from airside.types import EventDateTime

# Every service delivers its own events to webhooks, so each one says, on its own stream, when it stopped.
SERVICES = ("booking", "lounge", "callcenter")


class WebhookDisabled(BaseModel):
    subscription_id: str
    url: str
    disabled_at: EventDateTime
    # The first failed delivery since the last success: `disabled_at` minus this is at least the disable window.
    failing_since: EventDateTime
    last_error: str | None = None


WEBHOOK_DISABLED: dict[str, EventDefinition[WebhookDisabled]] = {
    service: define(
        f"airside.{service}.webhook.disabled",
        WebhookDisabled,
        f"A webhook subscription to {service}'s events was disabled after failing for a day; nothing more is sent to it.",
        producer=service,
    )
    for service in SERVICES
}

EXAMPLES: dict[str, dict[str, Any]] = {
    definition.type: {
        "subscription_id": "3f6c2a9e-8b1d-4e57-a0c4-91d2b7e6f5a3",
        "url": "https://partner.example.com/airside/webhooks",
        "disabled_at": "2026-12-24T21:05:00Z",
        "failing_since": "2026-12-23T21:04:55Z",
        "last_error": "HTTP 503",
    }
    for definition in WEBHOOK_DISABLED.values()
}

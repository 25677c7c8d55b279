"""Every event Airside emits or consumes: typed payloads, one definition for producer and consumers."""

from typing import Any

from airside.events import booking, callcenter, carriers, flights, lounge, webhooks
from airside.messaging.envelope import REGISTRY

# A realistic payload of every event type, by type (the AsyncAPI document's message examples).
EXAMPLES: dict[str, dict[str, Any]] = {
    **booking.EXAMPLES,
    **carriers.EXAMPLES,
    **callcenter.EXAMPLES,
    **flights.EXAMPLES,
    **lounge.EXAMPLES,
    **webhooks.EXAMPLES,
}

__all__ = ["EXAMPLES", "REGISTRY", "booking", "callcenter", "carriers", "flights", "lounge", "webhooks"]

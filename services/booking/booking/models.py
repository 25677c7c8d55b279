"""Every table of booking, so Alembic sees the whole metadata."""

from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import DeadLetter, ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery, WebhookSubscription
from booking.concierges.models import Concierge, Shift
from booking.flights.models import Flight
from booking.members.models import Member
from booking.orders.models import Order, OrderHistory
from booking.products.models import Product
from booking.stations.models import Station

__all__ = [
    "Concierge",
    "DeadLetter",
    "Flight",
    "IdempotencyRecord",
    "Member",
    "Order",
    "OrderHistory",
    "OutboxEvent",
    "ProcessedEvent",
    "Product",
    "Shift",
    "Station",
    "WebhookDelivery",
    "WebhookSubscription",
]

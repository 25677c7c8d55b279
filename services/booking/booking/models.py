"""Every table of booking, so Alembic sees the whole metadata."""

from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import DeadLetter, ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery, WebhookSubscription
from booking.carriers.models import Carrier, Contract, ContractTerm
from booking.concierges.models import Concierge, Shift
from booking.flights.models import Flight
from booking.members.models import Member
from booking.orders.models import Order, OrderHistory
from booking.products.models import Product
from booking.settlement.models import LineDispute, Payment, Refusal, Statement, StatementLine
from booking.stations.models import Station

__all__ = [
    "Carrier",
    "Concierge",
    "Contract",
    "ContractTerm",
    "DeadLetter",
    "Flight",
    "IdempotencyRecord",
    "LineDispute",
    "Member",
    "Order",
    "OrderHistory",
    "OutboxEvent",
    "Payment",
    "ProcessedEvent",
    "Product",
    "Refusal",
    "Shift",
    "Statement",
    "StatementLine",
    "Station",
    "WebhookDelivery",
    "WebhookSubscription",
]

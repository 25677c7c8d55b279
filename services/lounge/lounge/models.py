"""Every table of lounge, so Alembic sees the whole metadata."""

from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import DeadLetter, ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery, WebhookSubscription
from lounge.carriers.models import Carrier, Contract
from lounge.flights.models import Flight
from lounge.lounges.models import Lounge
from lounge.members.models import Member
from lounge.menu.models import MenuItem
from lounge.orders.models import ExpectedVisit
from lounge.refusals.models import EntryRefusal
from lounge.requisitions.models import Requisition, RequisitionLine
from lounge.sales.models import Bill, SaleLine
from lounge.stations import Station
from lounge.stock.models import Delivery, StockCount, StockCountLine, StockItem
from lounge.visits.models import LoungeOccupancy, Visit

__all__ = [
    "Bill",
    "Carrier",
    "Contract",
    "DeadLetter",
    "Delivery",
    "EntryRefusal",
    "ExpectedVisit",
    "Flight",
    "IdempotencyRecord",
    "Lounge",
    "LoungeOccupancy",
    "Member",
    "MenuItem",
    "OutboxEvent",
    "ProcessedEvent",
    "Requisition",
    "RequisitionLine",
    "SaleLine",
    "Station",
    "StockCount",
    "StockCountLine",
    "StockItem",
    "Visit",
    "WebhookDelivery",
    "WebhookSubscription",
]

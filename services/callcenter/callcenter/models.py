"""Every table of the call center, so Alembic sees the whole metadata."""

from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import DeadLetter, ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery, WebhookSubscription
from callcenter.agents.models import Agent
from callcenter.callbacks.models import Callback, CallbackAttempt, CsatScore
from callcenter.carriers.models import Carrier, Contract
from callcenter.copies import OrderCopy, VisitCopy
from callcenter.members.models import Member
from callcenter.sla.models import SlaPolicy
from callcenter.stations import Station
from callcenter.tickets.models import Ticket, TicketCall, TicketHistory, TicketNote, TicketNumber

__all__ = [
    "Agent",
    "Callback",
    "CallbackAttempt",
    "Carrier",
    "Contract",
    "CsatScore",
    "DeadLetter",
    "IdempotencyRecord",
    "Member",
    "OrderCopy",
    "OutboxEvent",
    "ProcessedEvent",
    "SlaPolicy",
    "Station",
    "Ticket",
    "TicketCall",
    "TicketHistory",
    "TicketNote",
    "TicketNumber",
    "VisitCopy",
    "WebhookDelivery",
    "WebhookSubscription",
]

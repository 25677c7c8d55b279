"""Events the call center emits on AIRSIDE_CALLCENTER (docs/callcenter.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from airside.messaging.envelope import define
from airside.types import EventDateTime

PRODUCER = "callcenter"


class TicketSnapshot(BaseModel):
    id: str
    number: str
    version: int
    type: str
    status: str
    priority: str
    station: str
    member_id: str | None = None
    order_id: str | None = None
    visit_id: str | None = None
    assignee: str | None = None


class TicketEvent(BaseModel):
    ticket: TicketSnapshot


class TicketStatusChanged(TicketEvent):
    from_status: str
    to_status: str


class TicketSlaEvent(TicketEvent):
    target: str  # first_response | resolution
    due_at: EventDateTime


class TicketEscalated(TicketEvent):
    level: int
    target: str


class ComplaintApprovalRequested(TicketEvent):
    compensation_minor: int  # this proposal
    approver_role: str
    # The complaint's compensation with this proposal (what was approved before, plus it): what decides the approver.
    complaint_total_minor: int | None = None


class ComplaintResolved(TicketEvent):
    resolution: str | None = None
    compensation_minor: int = 0  # every approved proposal of the complaint together


class ComplaintRouted(BaseModel):
    ticket_id: str
    station: str
    service: str  # booking | lounge
    order_id: str | None = None
    visit_id: str | None = None


class CallbackSnapshot(BaseModel):
    id: str
    order_id: str
    member_id: str | None = None
    station: str
    purpose: str
    status: str
    due_at: EventDateTime
    attempts: int


class CallbackEvent(BaseModel):
    callback: CallbackSnapshot


class CallbackCompleted(CallbackEvent):
    outcome: str
    csat: int | None = None


class CsatRecorded(BaseModel):
    order_id: str
    member_id: str | None = None
    station: str
    csat: int
    comment: str | None = None
    callback_id: str | None = None
    source: str  # call | survey


ticket_created = define("airside.callcenter.ticket.created", TicketEvent, "A ticket was opened.", producer=PRODUCER)
ticket_assigned = define("airside.callcenter.ticket.assigned", TicketEvent, "A ticket was assigned or claimed.", producer=PRODUCER)
ticket_status_changed = define(
    "airside.callcenter.ticket.status_changed", TicketStatusChanged, "A ticket moved to another status.", producer=PRODUCER
)
ticket_sla_warning = define("airside.callcenter.ticket.sla_warning", TicketSlaEvent, "80% of an SLA target has elapsed.", producer=PRODUCER)
ticket_sla_breached = define("airside.callcenter.ticket.sla_breached", TicketSlaEvent, "An SLA target was missed.", producer=PRODUCER)
ticket_escalated = define(
    "airside.callcenter.ticket.escalated", TicketEscalated, "A ticket escalated to team lead (1) or supervisor (2).", producer=PRODUCER
)
complaint_approval_requested = define(
    "airside.callcenter.complaint.approval_requested", ComplaintApprovalRequested, "A compensation needs approval.", producer=PRODUCER
)
complaint_resolved = define(
    "airside.callcenter.complaint.resolved", ComplaintResolved, "A complaint closed with the member satisfied.", producer=PRODUCER
)
complaint_routed = define(
    "airside.callcenter.complaint.routed",
    ComplaintRouted,
    "A complaint against an order or visit was routed to its station.",
    producer=PRODUCER,
)
callback_scheduled = define("airside.callcenter.callback.scheduled", CallbackEvent, "A follow-up call was scheduled.", producer=PRODUCER)
callback_completed = define(
    "airside.callcenter.callback.completed", CallbackCompleted, "A follow-up call ended (reached, declined or failed).", producer=PRODUCER
)
csat_recorded = define("airside.callcenter.csat.recorded", CsatRecorded, "A satisfaction score was recorded.", producer=PRODUCER)


# One realistic payload per event, for the AsyncAPI document's message examples (validated when it is written).
_TICKET = {
    "id": "4c8e1a3d-6b2f-4d9e-a7c5-0e3b9f1d2a68",
    "number": "T-20261224-0042",
    "version": 1,
    "type": "complaint",
    "status": "new",
    "priority": "P2",
    "station": "PEK",
    "member_id": "6e2d9a41-8c3b-4f7e-b1a5-3d0c7f9e2b18",
    "order_id": "a3c8e1f4-2b7d-4e9a-8f6c-1d5b0e3a9c24",
}
_ASSIGNED = {**_TICKET, "version": 2, "status": "open", "assignee": "zhao.min"}
_CALLBACK = {
    "id": "8b3f6d1a-2e9c-4a7b-b5d0-6c1e4a9f3b72",
    "order_id": "a3c8e1f4-2b7d-4e9a-8f6c-1d5b0e3a9c24",
    "member_id": "6e2d9a41-8c3b-4f7e-b1a5-3d0c7f9e2b18",
    "station": "PEK",
    "purpose": "service_followup",
    "status": "pending",
    "due_at": "2026-12-24T02:00:00Z",
    "attempts": 0,
}
EXAMPLES: dict[str, dict[str, Any]] = {
    ticket_created.type: {"ticket": _TICKET},
    ticket_assigned.type: {"ticket": _ASSIGNED},
    ticket_status_changed.type: {
        "ticket": {**_ASSIGNED, "version": 3, "status": "pending_internal"},
        "from_status": "open",
        "to_status": "pending_internal",
    },
    ticket_sla_warning.type: {"ticket": _ASSIGNED, "target": "first_response", "due_at": "2026-12-24T03:30:00Z"},
    ticket_sla_breached.type: {"ticket": _ASSIGNED, "target": "resolution", "due_at": "2026-12-24T11:00:00Z"},
    ticket_escalated.type: {"ticket": _ASSIGNED, "level": 1, "target": "resolution"},
    complaint_approval_requested.type: {
        "ticket": _ASSIGNED,
        "compensation_minor": 30000,
        "approver_role": "team_lead",
        "complaint_total_minor": 30000,
    },
    complaint_resolved.type: {
        "ticket": {**_ASSIGNED, "version": 5, "status": "resolved"},
        "resolution": "Apologised; 300 CNY voucher approved",
        "compensation_minor": 30000,
    },
    complaint_routed.type: {"ticket_id": _TICKET["id"], "station": "PEK", "service": "booking", "order_id": _TICKET["order_id"]},
    callback_scheduled.type: {"callback": _CALLBACK},
    callback_completed.type: {"callback": {**_CALLBACK, "status": "completed", "attempts": 1}, "outcome": "reached", "csat": 5},
    csat_recorded.type: {
        "order_id": _CALLBACK["order_id"],
        "member_id": _CALLBACK["member_id"],
        "station": "PEK",
        "csat": 5,
        "comment": "Very helpful at security",
        "callback_id": _CALLBACK["id"],
        "source": "call",
    },
}

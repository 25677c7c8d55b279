"""Events the call center emits on AIRSIDE_CALLCENTER (docs/callcenter.md)."""

from __future__ import annotations

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

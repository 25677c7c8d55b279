"""The complaint workflow's writes: investigate, propose, approve or reject, inform, follow up."""

from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.auth import Principal
from airside.events import callcenter as cc_events
from airside.messaging.outbox import record
from airside.problems import forbidden
from callcenter.complaints.rules import approver_role, may_approve, require_not_own_proposal, require_stage
from callcenter.tickets import records
from callcenter.tickets.models import Ticket
from callcenter.tickets.service import move, touch
from callcenter.tickets.transitions import Stage, TicketStatus


async def _stage(session: AsyncSession, ticket: Ticket, stage: Stage, actor: str, **detail: object) -> None:
    before = ticket.complaint_stage
    ticket.complaint_stage = stage.value
    # Working on a complaint opens the ticket; the status machine still applies.
    if ticket.status in (TicketStatus.new, TicketStatus.pending_customer, TicketStatus.pending_internal) and stage != Stage.closed:
        await move(session, ticket, TicketStatus.open, actor, reason=f"complaint_{stage.value}")
    else:
        touch(ticket, clock.now())
    records.log(session, ticket, actor, "complaint_stage", from_stage=before, to_stage=stage.value, **detail)


async def investigate(*, session: AsyncSession, ticket: Ticket, actor: str) -> Ticket:
    require_stage("investigate", ticket.complaint_stage)
    await _stage(session, ticket, Stage.investigating, actor)
    return ticket


async def propose(*, session: AsyncSession, ticket: Ticket, resolution: str, compensation_minor: int, actor: str) -> Ticket:
    require_stage("propose", ticket.complaint_stage)
    if ticket.complaint_stage == Stage.registered:
        await _stage(session, ticket, Stage.investigating, actor)
    # Nothing is pending at these stages: the complaint's compensation so far is what was approved.
    total = (ticket.compensation_minor or 0) + compensation_minor
    ticket.resolution, ticket.compensation_minor = resolution, total
    await _stage(session, ticket, Stage.resolution_proposed, actor, compensation_minor=compensation_minor, total_minor=total)
    needed = approver_role(total)
    ticket.approver_role = needed.value if needed else None
    if needed is None:
        await _stage(session, ticket, Stage.approved, actor, approval="not_needed")
        return ticket
    ticket.compensation_pending_minor, ticket.compensation_proposed_by = compensation_minor, actor
    await _stage(session, ticket, Stage.awaiting_approval, actor, approver_role=needed.value)
    requested = cc_events.ComplaintApprovalRequested(
        ticket=records.snapshot(ticket), compensation_minor=compensation_minor, approver_role=needed.value, complaint_total_minor=total
    )
    record(session, cc_events.complaint_approval_requested, requested, subject=ticket.id)
    return ticket


def _require_approver(principal: Principal, ticket: Ticket) -> None:
    if not may_approve(principal, ticket.compensation_minor or 0):
        raise forbidden(f"compensation of {ticket.compensation_minor} minor in all needs a {ticket.approver_role} to decide")


def _settle_proposal(ticket: Ticket, *, granted: bool) -> None:
    if not granted:
        ticket.compensation_minor = (ticket.compensation_minor or 0) - (ticket.compensation_pending_minor or 0)
    ticket.compensation_pending_minor = ticket.compensation_proposed_by = None


async def approve(*, session: AsyncSession, ticket: Ticket, principal: Principal) -> Ticket:
    require_stage("approve", ticket.complaint_stage)
    require_not_own_proposal(principal, ticket.compensation_proposed_by)
    _require_approver(principal, ticket)
    _settle_proposal(ticket, granted=True)
    await _stage(session, ticket, Stage.approved, principal.sub, approved_by=principal.sub)
    return ticket


async def reject(*, session: AsyncSession, ticket: Ticket, principal: Principal, reason: str) -> Ticket:
    require_stage("reject", ticket.complaint_stage)
    _require_approver(principal, ticket)
    _settle_proposal(ticket, granted=False)
    await _stage(session, ticket, Stage.investigating, principal.sub, rejected_by=principal.sub, reason=reason)
    return ticket


async def inform(*, session: AsyncSession, ticket: Ticket, actor: str) -> Ticket:
    require_stage("inform", ticket.complaint_stage)
    await _stage(session, ticket, Stage.customer_informed, actor)
    return ticket


async def follow_up(*, session: AsyncSession, ticket: Ticket, satisfied: bool, notes: str | None, actor: str) -> Ticket:
    require_stage("follow-up", ticket.complaint_stage)
    await _stage(session, ticket, Stage.follow_up, actor, satisfied=satisfied, notes=notes)
    if not satisfied:
        await _stage(session, ticket, Stage.investigating, actor, reason="member_not_satisfied")
        return ticket
    await _stage(session, ticket, Stage.closed, actor)
    if ticket.status != TicketStatus.resolved:
        await move(session, ticket, TicketStatus.resolved, actor, reason="complaint_closed")
    resolved = cc_events.ComplaintResolved(
        ticket=records.snapshot(ticket), resolution=ticket.resolution, compensation_minor=ticket.compensation_minor or 0
    )
    record(session, cc_events.complaint_resolved, resolved, subject=ticket.id)
    return ticket

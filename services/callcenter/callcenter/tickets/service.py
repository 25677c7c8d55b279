"""Ticket rules and writes: creation, the status machine, notes, calls, assignment, merge, changes.

Every function takes the session, changes without committing and records its events on it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.events import callcenter as cc_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid
from airside.statements import insert_ignoring_duplicates
from callcenter.agents.models import Agent
from callcenter.copies import VisitCopy
from callcenter.stations import Station
from callcenter.tickets import records, sla_clock
from callcenter.tickets.models import (
    AuthorKind,
    CallCreate,
    NoteCreate,
    Ticket,
    TicketCall,
    TicketCreate,
    TicketNote,
    TicketNumber,
    TicketOrigin,
    TicketType,
    TicketUpdate,
    Visibility,
    new_id,
)
from callcenter.tickets.records import log
from callcenter.tickets.transitions import ACTIVE, Stage, TicketStatus, require_move

# Business keys of event-raised tickets that hold only while the ticket is open (a later disruption may
# open a new ticket); the others hold for good (booking chases an order's confirmation once).
OPEN_ONLY_ORIGINS = frozenset({TicketOrigin.disruption})


def default_priority(ticket_type: TicketType) -> str:
    return "P2" if ticket_type == TicketType.complaint else "P3"


async def create_ticket(
    *,
    session: AsyncSession,
    body: TicketCreate,
    actor: str,
    origin: TicketOrigin | None = None,
    origin_key: str | None = None,
    now: datetime | None = None,
    check_station: bool = True,
) -> Ticket:
    if check_station and await session.get(Station, body.station) is None:
        raise invalid("body.station", f"unknown station {body.station}")
    now = now or clock.now()
    if body.visit_id and (visit := await session.get(VisitCopy, body.visit_id)) is not None:
        # Lounge told us whose visit it was: the complaint links the member and order by itself.
        body.member_id = body.member_id or visit.member_id
        body.order_id = body.order_id or visit.order_id
    ticket = Ticket(
        **body.model_dump(exclude={"priority", "tags", "type", "channel"}),
        type=body.type.value,
        channel=body.channel.value,
        priority=(body.priority.value if body.priority else default_priority(body.type)),
        tags=sorted(set(body.tags)),
        number="",
        created_by=actor,
        origin=origin,
        origin_key=origin_key,
        created_at=now,
        updated_at=now,
        sla_anchor_at=now,
    )
    if body.type == TicketType.complaint:
        ticket.complaint_stage = Stage.registered.value
    numbering = TicketNumber(ticket_id=ticket.id)
    session.add(numbering)
    await session.flush()
    ticket.number = f"CC-{numbering.seq:06d}"
    await sla_clock.recompute(session, ticket)
    session.add(ticket)
    await session.flush()
    log(session, ticket, actor, "created", type=ticket.type, priority=ticket.priority, channel=ticket.channel)
    record(session, cc_events.ticket_created, records.event(ticket), subject=ticket.id)
    if ticket.type == TicketType.complaint and (ticket.order_id or ticket.visit_id):
        route_complaint(session, ticket)
    return ticket


def route_complaint(session: AsyncSession, ticket: Ticket) -> None:
    """A complaint against an order or visit goes to the station's systems at once."""
    service = "lounge" if ticket.visit_id else "booking"
    routed = cc_events.ComplaintRouted(
        ticket_id=ticket.id, station=ticket.station, service=service, order_id=ticket.order_id, visit_id=ticket.visit_id
    )
    record(session, cc_events.complaint_routed, routed, subject=ticket.id)
    log(session, ticket, "system", "complaint_routed", service=service)


def touch(ticket: Ticket, now: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = now


async def move(
    session: AsyncSession, ticket: Ticket, target: TicketStatus, actor: str, *, now: datetime | None = None, **detail: Any
) -> None:
    """The one place a ticket's status changes: machine check, SLA clock, timestamps, history, event."""
    require_move(ticket.status, target)
    now = now or clock.now()
    calendar = await sla_clock.advance(session, ticket, now)
    before = ticket.status
    ticket.status = target.value
    if target == TicketStatus.resolved:
        ticket.resolved_at = now
    elif target == TicketStatus.open and before == TicketStatus.resolved:
        ticket.resolved_at = None  # reopened: resolution time restarts from the next resolve
    elif target == TicketStatus.closed:
        ticket.closed_at = now
    if TicketStatus(target) not in ACTIVE and ticket.origin in OPEN_ONLY_ORIGINS:
        ticket.origin_key = None  # a later event of the order may open a new one
    await sla_clock.recompute(session, ticket, calendar)
    touch(ticket, now)
    log(session, ticket, actor, "status_changed", from_status=before, to_status=target.value, **detail)
    changed = cc_events.TicketStatusChanged(ticket=records.snapshot(ticket), from_status=before, to_status=target.value)
    record(session, cc_events.ticket_status_changed, changed, subject=ticket.id)


async def change_status(*, session: AsyncSession, ticket: Ticket, target: TicketStatus, actor: str) -> Ticket:
    if target == TicketStatus.merged:
        raise conflict("use_merge", "merge a ticket with POST /v1/tickets/{id}/merge")
    if (
        ticket.type == TicketType.complaint
        and target in (TicketStatus.resolved, TicketStatus.closed)
        and ticket.complaint_stage != Stage.closed
    ):
        raise conflict("complaint_open", "a complaint is resolved only when the member is satisfied (complaint follow-up)")
    await move(session, ticket, target, actor)
    return ticket


async def add_note(*, session: AsyncSession, ticket: Ticket, body: NoteCreate, actor: str, by_member: bool) -> TicketNote:
    if ticket.status in (TicketStatus.closed, TicketStatus.merged):
        raise conflict("ticket_closed", f"a {ticket.status} ticket takes no notes")
    now = clock.now()
    visibility = Visibility.public if by_member else body.visibility
    note = TicketNote(
        ticket_id=ticket.id,
        body=body.body,
        visibility=visibility.value,
        author=actor,
        author_kind=AuthorKind.member if by_member else AuthorKind.agent,
        created_at=now,
    )
    session.add(note)
    if by_member:
        # A customer reply: it reopens a resolved ticket and ends waiting on the customer.
        ticket.contacts += 1
        if ticket.status in (TicketStatus.resolved, TicketStatus.pending_customer):
            await move(session, ticket, TicketStatus.open, actor, now=now, reason="customer_reply")
            return note
    elif visibility == Visibility.public and ticket.first_responded_at is None:
        calendar = await sla_clock.advance(session, ticket, now)
        ticket.first_responded_at = now
        await sla_clock.recompute(session, ticket, calendar)
        log(session, ticket, actor, "first_response")
    touch(ticket, now)
    log(session, ticket, actor, "note_added", visibility=visibility.value, note_id=note.id)
    return note


async def log_call(*, session: AsyncSession, ticket: Ticket, body: CallCreate, actor: str, agent: Agent | None) -> TicketCall:
    if ticket.status in (TicketStatus.closed, TicketStatus.merged):
        raise conflict("ticket_closed", f"a {ticket.status} ticket takes no calls")
    now = clock.now()
    calls = await session.scalar(select(func.count()).where(TicketCall.ticket_id == ticket.id))
    if calls:
        ticket.contacts += 1  # the first call is the contact that opened the ticket
    call = TicketCall(
        ticket_id=ticket.id,
        direction=body.direction.value,
        duration_seconds=body.duration_seconds,
        outcome=body.outcome.value,
        agent_id=agent.id if agent else None,
        logged_by=actor,
        created_at=now,
    )
    session.add(call)
    touch(ticket, now)
    log(session, ticket, actor, "call_logged", direction=call.direction, outcome=call.outcome, duration_seconds=call.duration_seconds)
    return call


async def assign(*, session: AsyncSession, ticket: Ticket, agent: Agent, actor: str) -> Ticket:
    if TicketStatus(ticket.status) not in ACTIVE:
        raise conflict("ticket_closed", f"a {ticket.status} ticket cannot be assigned")
    if agent.station != ticket.station or not agent.active:
        raise conflict("agent_elsewhere", f"agent {agent.id} does not work at {ticket.station}")
    now = clock.now()
    ticket.assignee = agent.id
    if ticket.status == TicketStatus.new:
        await move(session, ticket, TicketStatus.open, actor, now=now, reason="assigned")
    else:
        touch(ticket, now)
    log(session, ticket, actor, "assigned", agent_id=agent.id)
    record(session, cc_events.ticket_assigned, records.event(ticket), subject=ticket.id)
    return ticket


async def merge(*, session: AsyncSession, ticket: Ticket, into: Ticket, actor: str) -> Ticket:
    if ticket.id == into.id:
        raise conflict("merge_into_itself", "a ticket cannot be merged into itself")
    if TicketStatus(into.status) not in ACTIVE:
        raise conflict("merge_target_closed", f"ticket {into.number} is {into.status}")
    await move(session, ticket, TicketStatus.merged, actor, into=into.id)
    ticket.merged_into = into.id
    now = clock.now()
    into.tags = sorted(set(into.tags) | set(ticket.tags))
    into.order_id = into.order_id or ticket.order_id
    into.visit_id = into.visit_id or ticket.visit_id
    into.contacts += 1 + ticket.contacts
    touch(into, now)
    log(session, into, actor, "merged_in", ticket_id=ticket.id, number=ticket.number)
    return ticket


async def update_ticket(*, session: AsyncSession, ticket: Ticket, body: TicketUpdate, actor: str) -> Ticket:
    if ticket.status in (TicketStatus.closed, TicketStatus.merged):
        raise conflict("ticket_closed", f"a {ticket.status} ticket cannot change")
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    now = clock.now()
    if "tags" in changes:
        changes["tags"] = sorted(set(changes["tags"]))
    if "priority" in changes:
        changes["priority"] = body.priority.value if body.priority else ticket.priority
        await sla_clock.advance(session, ticket, now)
    for key, value in changes.items():
        setattr(ticket, key, value)
    if "priority" in changes:
        await sla_clock.recompute(session, ticket)
    touch(ticket, now)
    log(session, ticket, actor, "updated", **{key: str(value) for key, value in changes.items()})
    return ticket


async def raise_priority(*, session: AsyncSession, ticket: Ticket, priority: str, actor: str) -> bool:
    """Move to a more urgent priority (never a less urgent one); deadlines follow."""
    if priority >= ticket.priority:  # "P1" < "P2": lower string is more urgent
        return False
    now = clock.now()
    calendar = await sla_clock.advance(session, ticket, now)
    before = ticket.priority
    ticket.priority = priority
    await sla_clock.recompute(session, ticket, calendar)
    touch(ticket, now)
    log(session, ticket, actor, "priority_raised", from_priority=before, to_priority=priority)
    return True


async def add_system_note(session: AsyncSession, ticket: Ticket, body: str, *, note_id: str | None = None) -> bool:
    """An internal note by the system; with a `note_id` (the news' business key) a repeat adds nothing. True when noted."""
    now = clock.now()
    note = {
        "ticket_id": ticket.id,
        "body": body,
        "visibility": "internal",
        "author": "system",
        "author_kind": AuthorKind.system,
        "created_at": now,
    }
    if not await insert_ignoring_duplicates(session, TicketNote, {"id": note_id or new_id(), **note}, index_elements=["id"]):
        return False
    touch(ticket, now)
    log(session, ticket, "system", "note_added", visibility="internal")
    return True


async def system_note_exists(session: AsyncSession, note_id: str) -> bool:
    return await session.scalar(select(TicketNote.id).where(TicketNote.id == note_id)) is not None


async def find_by_origin(session: AsyncSession, origin_key: str) -> Ticket | None:
    """An event-raised ticket by its business key; a racing replica's insert fails on the unique key and retries into this."""
    return (await session.execute(select(Ticket).where(Ticket.origin_key == origin_key))).scalars().first()

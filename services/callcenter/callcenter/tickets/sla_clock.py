"""A ticket's SLA clock: business minutes banked per status, deadlines recomputed from the policy and calendar."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.business_time import business_minutes_between
from callcenter.sla.deadlines import BITS, BREACHED, FIRST_RESPONSE, RESOLUTION, TargetClock, due_at, next_check
from callcenter.sla.service import calendar_for, policy_minutes
from callcenter.tickets.models import Ticket
from callcenter.tickets.transitions import CLOCK_RUNS, TicketStatus


def clocks_of(ticket: Ticket, minutes: tuple[int, int]) -> list[TargetClock]:
    runs = TicketStatus(ticket.status) in CLOCK_RUNS
    return [
        TargetClock(FIRST_RESPONSE, minutes[0], ticket.first_response_elapsed, runs and ticket.first_responded_at is None),
        TargetClock(RESOLUTION, minutes[1], ticket.resolution_elapsed, runs),
    ]


async def advance(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Bank the business minutes used since the anchor under the current status, before it changes."""
    calendar = await calendar_for(session, ticket.station)
    if now > ticket.sla_anchor_at and TicketStatus(ticket.status) in CLOCK_RUNS:
        used = business_minutes_between(ticket.sla_anchor_at, now, calendar)
        if ticket.first_responded_at is None:
            ticket.first_response_elapsed += used
        ticket.resolution_elapsed += used
    ticket.sla_anchor_at = max(now, ticket.sla_anchor_at)


async def recompute(session: AsyncSession, ticket: Ticket) -> None:
    """Deadlines of the running clocks from the anchor; a paused or met target keeps its last deadline."""
    calendar = await calendar_for(session, ticket.station)
    clocks = clocks_of(ticket, await policy_minutes(session, ticket.priority))
    for clock in clocks:
        if clock.running:
            setattr(ticket, f"{clock.target}_due", due_at(clock, ticket.sla_anchor_at, calendar))
    ticket.sla_next_check_at = next_check(clocks, ticket.sla_anchor_at, ticket.sla_fired, calendar)
    active = TicketStatus(ticket.status) in CLOCK_RUNS or ticket.status == TicketStatus.pending_customer
    ticket.next_due = (ticket.first_response_due if ticket.first_responded_at is None else ticket.resolution_due) if active else None


def breached(ticket: Ticket) -> dict[str, bool]:
    return {target: bool(ticket.sla_fired & BITS[(target, BREACHED)]) for target in (FIRST_RESPONSE, RESOLUTION)}

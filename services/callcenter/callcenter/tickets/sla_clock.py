"""A ticket's SLA clock: business minutes banked per status, deadlines recomputed from the policy and calendar."""

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.business_time import BusinessCalendar, business_minutes_between
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


async def advance(session: AsyncSession, ticket: Ticket, now: datetime) -> BusinessCalendar:
    """Bank the business minutes used since the anchor under the current status, before it changes; returns
    the station's calendar it read, for the `recompute` that follows."""
    calendar = await calendar_for(session, ticket.station)
    if now > ticket.sla_anchor_at and TicketStatus(ticket.status) in CLOCK_RUNS:
        used = business_minutes_between(ticket.sla_anchor_at, now, calendar)
        if ticket.first_responded_at is None:
            ticket.first_response_elapsed += used
        ticket.resolution_elapsed += used
    ticket.sla_anchor_at = max(now, ticket.sla_anchor_at)
    return calendar


async def recompute(session: AsyncSession, ticket: Ticket, calendar: BusinessCalendar | None = None) -> None:
    """Deadlines of the running clocks from the anchor; a paused or met target keeps its last deadline."""
    calendar = calendar or await calendar_for(session, ticket.station)
    # Reading the policy needs none of the ticket's pending changes: flushing them here would write the row twice.
    with session.no_autoflush:
        minutes = await policy_minutes(session, ticket.priority)
    clocks = clocks_of(ticket, minutes)
    for clock in clocks:
        if clock.running:
            setattr(ticket, f"{clock.target}_due", due_at(clock, ticket.sla_anchor_at, calendar))
    ticket.sla_next_check_at = next_check(clocks, ticket.sla_anchor_at, ticket.sla_fired, calendar)
    active = TicketStatus(ticket.status) in CLOCK_RUNS or ticket.status == TicketStatus.pending_customer
    ticket.next_due = (ticket.first_response_due if ticket.first_responded_at is None else ticket.resolution_due) if active else None


def breached(ticket: Ticket | Row[Any]) -> dict[str, bool]:
    return {target: bool(ticket.sla_fired & BITS[(target, BREACHED)]) for target in (FIRST_RESPONSE, RESOLUTION)}

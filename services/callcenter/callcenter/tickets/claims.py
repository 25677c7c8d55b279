"""POST /v1/queue/claim: the most urgent unassigned ticket of the agent's stations, never to two agents.

One statement takes the ticket and returns its row: UPDATE ... WHERE id = (the most urgent candidate)
AND assignee IS NULL RETURNING. On PostgreSQL the candidate subquery locks its row FOR UPDATE SKIP
LOCKED, so racing claims take different tickets; SQLite has one writer, so the statement is atomic
there as it stands (it renders no FOR UPDATE). Both keep the conditional UPDATE.
"""

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.events import callcenter as cc_events
from airside.messaging.outbox import record
from callcenter.agents.models import Agent
from callcenter.tickets import records
from callcenter.tickets.models import CLAIMABLE_ROWS, Ticket
from callcenter.tickets.service import move, touch
from callcenter.tickets.transitions import CLAIMABLE, TicketStatus

assert {status.value for status in CLAIMABLE} == {"new", "open"}, "CLAIMABLE_ROWS and ix_ticket_claimable name these"


async def claim_next(*, session: AsyncSession, agent: Agent, stations: frozenset[str]) -> Ticket | None:
    is_postgres = session.bind.dialect.name == "postgresql"
    # Earliest SLA deadline first (tickets without one last), then priority, then age. PostgreSQL sorts
    # NULLs last already, and saying it plainly lets the partial index ix_ticket_claimable give the
    # order (one index entry read instead of sorting every open ticket of the station).
    first_due = Ticket.next_due.asc().nulls_last() if is_postgres else case((Ticket.next_due.is_(None), 1), else_=0)  # type: ignore[union-attr]
    candidate = (
        select(Ticket.id)
        # The index predicate itself, as literals: a bound parameter would hide it from a generic plan.
        .where(Ticket.station.in_(sorted(stations)), CLAIMABLE_ROWS)  # type: ignore[attr-defined]
        .order_by(first_due, Ticket.next_due, Ticket.priority, Ticket.created_at)  # type: ignore[arg-type]
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    # The candidate is locked (PostgreSQL) or the statement alone writes (SQLite), so no race is lost here:
    # no row means nothing claimable is waiting (or, on PostgreSQL, all of it is being claimed right now).
    taken = update(Ticket).where(Ticket.id == candidate, Ticket.assignee.is_(None)).values(assignee=agent.id).returning(Ticket)  # type: ignore[union-attr]
    ticket = (await session.execute(taken)).scalars().first()
    return await _take(session, ticket, agent) if ticket is not None else None


async def _take(session: AsyncSession, ticket: Ticket, agent: Agent) -> Ticket:
    if ticket.status == TicketStatus.new:
        await move(session, ticket, TicketStatus.open, agent.subject, reason="claimed")
    else:
        touch(ticket, clock.now())
    records.log(session, ticket, agent.subject, "claimed", agent_id=agent.id)
    record(session, cc_events.ticket_assigned, cc_events.TicketEvent(ticket=records.snapshot(ticket)), subject=ticket.id)
    return ticket

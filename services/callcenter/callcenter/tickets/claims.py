"""POST /v1/queue/claim: the most urgent unassigned ticket of the agent's stations, never to two agents.

PostgreSQL locks the candidate with SELECT ... FOR UPDATE SKIP LOCKED, so racing claims take
different tickets; SQLite has one writer and claims with a conditional UPDATE (... WHERE assignee
IS NULL) that only one of two racing claims can win. Both paths keep the conditional UPDATE.
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

CANDIDATES = 5


async def claim_next(*, session: AsyncSession, agent: Agent, stations: frozenset[str]) -> Ticket | None:
    is_postgres = session.bind.dialect.name == "postgresql"
    # Earliest SLA deadline first (tickets without one last), then priority, then age. PostgreSQL sorts
    # NULLs last already, and saying it plainly lets the partial index ix_ticket_claimable give the
    # order (one index entry read instead of sorting every open ticket of the station).
    first_due = Ticket.next_due.asc().nulls_last() if is_postgres else case((Ticket.next_due.is_(None), 1), else_=0)  # type: ignore[union-attr]
    query = (
        select(Ticket.id)
        # The index predicate itself, as literals: a bound parameter would hide it from a generic plan.
        .where(Ticket.station.in_(sorted(stations)), CLAIMABLE_ROWS)  # type: ignore[attr-defined]
        .order_by(first_due, Ticket.next_due, Ticket.priority, Ticket.created_at)  # type: ignore[arg-type]
        .limit(1 if is_postgres else CANDIDATES)
    )
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    # Every lost race means another agent took a ticket, so looking again always ends: with a
    # ticket, or with none left (204 only when nothing claimable is waiting).
    while candidates := list((await session.execute(query)).scalars()):
        for ticket_id in candidates:
            won = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.assignee.is_(None)).values(assignee=agent.id)  # type: ignore[union-attr]
            )
            if not won.rowcount:  # type: ignore[attr-defined]
                continue  # another agent got it between our read and our write
            return await _take(session, ticket_id, agent)
    return None


async def _take(session: AsyncSession, ticket_id: str, agent: Agent) -> Ticket:
    ticket = await records.find_ticket(session, ticket_id)
    assert ticket is not None
    await session.refresh(ticket)
    if ticket.status == TicketStatus.new:
        await move(session, ticket, TicketStatus.open, agent.subject, reason="claimed")
    else:
        touch(ticket, clock.now())
    records.log(session, ticket, agent.subject, "claimed", agent_id=agent.id)
    record(session, cc_events.ticket_assigned, cc_events.TicketEvent(ticket=records.snapshot(ticket)), subject=ticket.id)
    return ticket

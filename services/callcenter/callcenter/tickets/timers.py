"""SLA timers and auto-close, as a job: state in the ticket row, each firing claimed once.

A pass looks at tickets whose next threshold instant has come. It claims a ticket with a
conditional UPDATE (... WHERE version = the version read) in the same transaction that records
the events, so a restarted service or a second replica finds nothing left to fire: warning at
80%, breach and escalation level 1 at 100%, escalation level 2 at 150%, once per ticket and target.
"""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import event, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from airside.events import callcenter as cc_events
from airside.messaging.outbox import record
from airside.metrics import SLA_BREACHES
from callcenter.sla.deadlines import BITS, BREACHED, ESCALATED_2, WARNING, firings_due, next_check
from callcenter.sla.service import calendar_for, policy_minutes
from callcenter.tickets import records
from callcenter.tickets.models import RESOLVED_ROWS, Ticket
from callcenter.tickets.service import move
from callcenter.tickets.sla_clock import clocks_of
from callcenter.tickets.transitions import TicketStatus

BATCH = 100
AUTO_CLOSE_AFTER = timedelta(hours=72)
# Breaches this pass recorded, counted in airside_sla_breaches_total only once its transaction commits.
_BREACHES = "callcenter.sla_breaches"


@event.listens_for(Session, "after_commit")
def _count_breaches_after_commit(session: Session) -> None:
    for target in session.info.pop(_BREACHES, []):
        SLA_BREACHES.labels("callcenter", target).inc()


@event.listens_for(Session, "after_rollback")
def _forget_breaches_after_rollback(session: Session) -> None:
    session.info.pop(_BREACHES, None)


async def _claim(session: AsyncSession, ticket: Ticket, **values: object) -> bool:
    """Win the ticket for this pass: only one replica's UPDATE matches the version it read."""
    result = await session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.version == ticket.version).values(version=ticket.version + 1, **values)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(ticket)
    return True


async def _due_for_sla(session: AsyncSession, now: datetime) -> AsyncIterator[Ticket]:
    """Every ticket whose next threshold has come by `now`, earliest first, a batch at a time. The walk
    goes on after the last ticket of each batch, so a backlog larger than a batch (or tickets another
    replica holds) never keeps a later ticket from its firing within this pass."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Ticket).where(Ticket.sla_next_check_at <= now)  # type: ignore[operator]
        if after is not None:
            query = query.where(tuple_(Ticket.sla_next_check_at, Ticket.id) > after)  # type: ignore[arg-type]
        batch = list((await session.execute(query.order_by(Ticket.sla_next_check_at, Ticket.id).limit(BATCH))).scalars())  # type: ignore[arg-type]
        for ticket in batch:
            after = (ticket.sla_next_check_at, ticket.id)  # type: ignore[assignment]  # read before the claim moves it
            yield ticket
        if len(batch) < BATCH:
            return


async def fire_sla(*, session: AsyncSession, now: datetime) -> int:
    """Fire every SLA threshold reached by `now`; returns how many events were recorded."""
    fired_events = 0
    async for ticket in _due_for_sla(session, now):
        calendar = await calendar_for(session, ticket.station)
        clocks = clocks_of(ticket, await policy_minutes(session, ticket.priority))
        due = firings_due(clocks, ticket.sla_anchor_at, now, ticket.sla_fired, calendar)
        fired = ticket.sla_fired
        for firing in due:
            fired |= BITS[firing]
        level = max([ticket.escalation_level] + [1 if kind == BREACHED else 2 for _target, kind in due if kind != WARNING])
        values = {
            "sla_fired": fired,
            "escalation_level": level,
            "sla_next_check_at": next_check(clocks, ticket.sla_anchor_at, fired, calendar),
        }
        if not await _claim(session, ticket, **values):
            continue  # changed by someone else since we read it: the next pass looks again
        for target, kind in due:
            due_at = getattr(ticket, f"{target}_due") or now
            snapshot = records.snapshot(ticket)
            if kind == WARNING:
                record(
                    session,
                    cc_events.ticket_sla_warning,
                    cc_events.TicketSlaEvent(ticket=snapshot, target=target, due_at=due_at),
                    subject=ticket.id,
                )
            elif kind == BREACHED:
                record(
                    session,
                    cc_events.ticket_sla_breached,
                    cc_events.TicketSlaEvent(ticket=snapshot, target=target, due_at=due_at),
                    subject=ticket.id,
                )
                record(
                    session,
                    cc_events.ticket_escalated,
                    cc_events.TicketEscalated(ticket=snapshot, level=1, target=target),
                    subject=ticket.id,
                )
                session.info.setdefault(_BREACHES, []).append(target)
            elif kind == ESCALATED_2:
                record(
                    session,
                    cc_events.ticket_escalated,
                    cc_events.TicketEscalated(ticket=snapshot, level=2, target=target),
                    subject=ticket.id,
                )
            records.log(session, ticket, "system", f"sla_{kind}", target=target)
            fired_events += 1
    return fired_events


async def auto_close(*, session: AsyncSession, now: datetime) -> int:
    """A resolved ticket closes itself after 72 hours without a customer reply (a reply reopens it)."""
    stale = (
        await session.execute(
            select(Ticket)
            # RESOLVED_ROWS as a literal: it is ix_ticket_resolved_open's predicate, so only resolved rows are read.
            .where(RESOLVED_ROWS, Ticket.resolved_at <= now - AUTO_CLOSE_AFTER)  # type: ignore[operator]
            .order_by(Ticket.resolved_at)  # type: ignore[arg-type]
            .limit(BATCH)
        )
    ).scalars()
    closed = 0
    for ticket in list(stale):
        if await _claim(session, ticket) and ticket.status == TicketStatus.resolved:
            await move(session, ticket, TicketStatus.closed, "system", now=now, reason="no_customer_reply_72h")
            closed += 1
    return closed


async def run_timers(*, session: AsyncSession, now: datetime) -> int:
    return await fire_sla(session=session, now=now) + await auto_close(session=session, now=now)

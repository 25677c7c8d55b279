"""Reading tickets as callers and events see them, and writing their history."""

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.auth import Principal
from airside.events import callcenter as cc_events
from airside.problems import not_found
from callcenter.tickets.models import SlaBreached, Ticket, TicketCall, TicketHistory, TicketNote, TicketPublic, TicketSummary
from callcenter.tickets.sla_clock import breached


def snapshot(ticket: Ticket) -> cc_events.TicketSnapshot:
    return cc_events.TicketSnapshot.model_validate(ticket, from_attributes=True)


def event(ticket: Ticket) -> cc_events.TicketEvent:
    return cc_events.TicketEvent(ticket=snapshot(ticket))


PUBLIC_COLUMNS = tuple(name for name in TicketPublic.model_fields if name != "sla_breached")


def public(ticket: Ticket | Row[Any]) -> TicketPublic:
    """The ticket as the API answers it: from the ORM instance, or from a row of the ticket table as a list
    reads its page (tickets/search.py), whose values are taken in one pass instead of one lookup each."""
    if isinstance(ticket, Row):
        row = dict(zip(ticket._fields, ticket, strict=True))
        values = {name: row[name] for name in PUBLIC_COLUMNS}
    else:
        values = {name: getattr(ticket, name) for name in PUBLIC_COLUMNS}
    return TicketPublic(**values, sla_breached=SlaBreached(**breached(ticket)))


def summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary.model_validate(ticket, from_attributes=True)


def log(session: AsyncSession, ticket: Ticket, actor: str, action: str, **detail: Any) -> None:
    session.add(TicketHistory(ticket_id=ticket.id, at=clock.now(), actor=actor, action=action, detail=detail))


async def find_ticket(session: AsyncSession, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
    query = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().first()


async def visible_ticket(session: AsyncSession, principal: Principal, ticket_id: str, *, for_update: bool = False) -> Ticket:
    """A foreign ticket (another station, another member's) answers 404: its existence does not leak."""
    ticket = await find_ticket(session, ticket_id, for_update=for_update)
    if ticket is None:
        raise not_found("ticket")
    if principal.is_member_only:
        if ticket.member_id is None or not principal.owns_member(ticket.member_id):
            raise not_found("ticket")
    else:
        principal.require_station_to_see(ticket.station, "ticket")
    return ticket


async def notes_of(session: AsyncSession, ticket: Ticket, *, public_only: bool) -> list[TicketNote]:
    """The ticket's notes, oldest first; a member sees the public ones only."""
    query = select(TicketNote).where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.created_at, TicketNote.id)  # type: ignore[arg-type]
    if public_only:
        query = query.where(TicketNote.visibility == "public")
    return list((await session.execute(query)).scalars())


async def calls_of(session: AsyncSession, ticket: Ticket) -> list[TicketCall]:
    query = select(TicketCall).where(TicketCall.ticket_id == ticket.id).order_by(TicketCall.created_at)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())


async def history_of(session: AsyncSession, ticket: Ticket) -> list[TicketHistory]:
    query = select(TicketHistory).where(TicketHistory.ticket_id == ticket.id).order_by(TicketHistory.at, TicketHistory.id)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())

"""Members as the call center knows them from booking's events: found by phone, with what is open for them."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.problems import not_found
from callcenter.callbacks.models import Callback, CallbackStatus
from callcenter.members.models import Member
from callcenter.tickets.models import Ticket
from callcenter.tickets.transitions import ACTIVE


async def members_with_phone(session: AsyncSession, phone: str) -> list[Member]:
    return list((await session.execute(select(Member).where(Member.phone == phone).order_by(Member.name))).scalars())


async def member(session: AsyncSession, member_id: str) -> Member:
    """404 until the member's first event arrived."""
    found = await session.get(Member, member_id)
    if found is None:
        raise not_found("member")
    return found


async def open_work(session: AsyncSession, member_id: str, stations: frozenset[str] | None) -> tuple[list[Ticket], list[Callback]]:
    """The member's open tickets (oldest first) and pending callbacks (soonest first) at `stations` (None: all)."""
    tickets = select(Ticket).where(Ticket.member_id == member_id, Ticket.status.in_([status.value for status in ACTIVE]))  # type: ignore[attr-defined]
    callbacks = select(Callback).where(Callback.member_id == member_id, Callback.status == CallbackStatus.pending.value)
    if stations is not None:
        tickets = tickets.where(Ticket.station.in_(sorted(stations)))  # type: ignore[attr-defined]
        callbacks = callbacks.where(Callback.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    open_tickets = (await session.execute(tickets.order_by(Ticket.created_at))).scalars()
    pending = (await session.execute(callbacks.order_by(Callback.due_at))).scalars()  # type: ignore[arg-type]
    return list(open_tickets), list(pending)

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from airside.auth import Principal, Role, require
from airside.db import SessionDep
from airside.problems import not_found
from airside.types import Phone
from callcenter.callbacks.models import Callback, CallbackStatus, CallbackSummary
from callcenter.members.models import Member, MemberDetail, MemberPublic
from callcenter.tickets.models import Ticket, TicketSummary
from callcenter.tickets.transitions import ACTIVE

router = APIRouter(prefix="/v1/members", tags=["members"])

Agents = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor, Role.service))]


@router.get("")
async def find_by_phone(session: SessionDep, _agent: Agents, phone: Annotated[Phone, Query(description="E.164")]) -> list[MemberPublic]:
    """Who is calling: the members with this phone number."""
    rows = (await session.execute(select(Member).where(Member.phone == phone).order_by(Member.name))).scalars()
    return [MemberPublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/{member_id}")
async def get_member(member_id: str, session: SessionDep, principal: Agents) -> MemberDetail:
    """The member as the call center knows it from booking's events, with their open tickets and pending
    callbacks at the caller's stations; 404 until the first event arrived."""
    member = await session.get(Member, member_id)
    if member is None:
        raise not_found("member")
    stations = principal.station_filter()
    tickets = select(Ticket).where(Ticket.member_id == member_id, Ticket.status.in_([status.value for status in ACTIVE]))  # type: ignore[attr-defined]
    callbacks = select(Callback).where(Callback.member_id == member_id, Callback.status == CallbackStatus.pending.value)
    if stations is not None:
        tickets = tickets.where(Ticket.station.in_(sorted(stations)))  # type: ignore[attr-defined]
        callbacks = callbacks.where(Callback.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    open_tickets = (await session.execute(tickets.order_by(Ticket.created_at))).scalars()
    pending = (await session.execute(callbacks.order_by(Callback.due_at))).scalars()  # type: ignore[arg-type]
    return MemberDetail(
        **MemberPublic.model_validate(member, from_attributes=True).model_dump(),
        open_tickets=[TicketSummary.model_validate(ticket, from_attributes=True) for ticket in open_tickets],
        pending_callbacks=[CallbackSummary.model_validate(callback, from_attributes=True) for callback in pending],
    )

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import Phone
from callcenter.callbacks.models import CallbackSummary
from callcenter.members import service
from callcenter.members.models import MemberDetail, MemberPublic
from callcenter.tickets.models import TicketSummary

router = APIRouter(prefix="/v1/members", tags=["members"])

Agents = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor, Role.service))]


@router.get("", summary="Find a caller by phone number")
async def find_by_phone(
    session: SessionDep,
    _agent: Agents,
    phone: Annotated[Phone, Query(description="E.164")],
    cursor: Annotated[Keyset, keyset(str, str)],
    limit: LimitQuery = 200,
) -> Page[MemberPublic]:
    """Who is calling: the members with this phone number."""
    members, next_cursor = cursor.page_of(await service.members_with_phone(session, phone), limit, lambda member: (member.name, member.id))
    return Page(items=[MemberPublic.model_validate(member, from_attributes=True) for member in members], next_cursor=next_cursor)


@router.get("/{member_id}", summary="Read a member", response_model=MemberDetail, responses=CONDITIONAL_GET)
async def get_member(member_id: str, session: SessionDep, principal: Agents, if_none_match: IfNoneMatch = None) -> Response:
    """The member as the call center knows it from booking's events, with their open tickets and pending
    callbacks at the caller's stations; 404 until the first event arrived."""
    member = await service.member(session, member_id)
    open_tickets, pending = await service.open_work(session, member_id, principal.station_filter())
    detail = MemberDetail(
        **MemberPublic.model_validate(member, from_attributes=True).model_dump(),
        open_tickets=[TicketSummary.model_validate(ticket, from_attributes=True) for ticket in open_tickets],
        pending_callbacks=[CallbackSummary.model_validate(callback, from_attributes=True) for callback in pending],
    )
    return conditional.answer(MemberDetail, detail, if_none_match)

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from airside import conditional
from airside.auth import STAFF_ROLES, Principal, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from lounge.members import service
from lounge.members.models import MemberPublic

router = APIRouter(prefix="/v1/members", tags=["members"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]


@router.get("/{member_id}", summary="Read a member", response_model=MemberPublic, responses=CONDITIONAL_GET)
async def get_member(member_id: str, session: SessionDep, _staff: Staff, if_none_match: IfNoneMatch = None) -> Response:
    """The member as lounge knows it from booking's events; 404 until the first event has arrived."""
    return conditional.answer(MemberPublic, service.public(await service.member(session, member_id)), if_none_match)

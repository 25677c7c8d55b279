from typing import Annotated

from fastapi import APIRouter, Depends

from airside.auth import STAFF_ROLES, Principal, require
from airside.db import SessionDep
from airside.problems import not_found
from lounge.members.entitlement import enters_free, guest_allowance
from lounge.members.models import Entitlement, Member, MemberPublic

router = APIRouter(prefix="/v1/members", tags=["members"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]


@router.get("/{member_id}")
async def get_member(member_id: str, session: SessionDep, _staff: Staff) -> MemberPublic:
    """The member as lounge knows it from booking's events; 404 until the first event has arrived."""
    member = await session.get(Member, member_id)
    if member is None:
        raise not_found("member")
    entitlement = Entitlement(free_entry=enters_free(member.tier), guest_allowance=guest_allowance(member.tier))
    return MemberPublic(**member.model_dump(include=set(MemberPublic.model_fields) - {"entitlement"}), entitlement=entitlement)

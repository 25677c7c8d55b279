"""Members as lounge knows them from booking's events, with what their tier lets them do at the door."""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.problems import not_found
from lounge.members.entitlement import enters_free, guest_allowance
from lounge.members.models import Entitlement, Member, MemberPublic


async def member(session: AsyncSession, member_id: str) -> Member:
    """404 until the member's first event has arrived."""
    found = await session.get(Member, member_id)
    if found is None:
        raise not_found("member")
    return found


def public(member: Member) -> MemberPublic:
    entitlement = Entitlement(free_entry=enters_free(member.tier), guest_allowance=guest_allowance(member.tier))
    return MemberPublic(**member.model_dump(include=set(MemberPublic.model_fields) - {"entitlement"}), entitlement=entitlement)

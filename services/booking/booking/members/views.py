from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncSession

from airside import conditional
from airside.auth import CurrentUser, Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.events.common import Tier
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden, invalid, not_found
from airside.types import RecordId
from airside.versioning import IfMatch, etag, set_etag
from booking.members import service
from booking.members.models import Member, MemberCreate, MemberPublic, MemberUpdate

router = APIRouter(prefix="/v1/members", tags=["members"])

MEMBER_STAFF = (Role.agent, Role.team_lead, Role.supervisor, Role.concierge_lead, Role.station_manager)
Enroller = Annotated[Principal, Depends(require(*MEMBER_STAFF, Role.carrier))]  # a carrier: its passengers (docs/carriers.md)


def _public(member: object) -> MemberPublic:
    return MemberPublic.model_validate(member, from_attributes=True)


def _acts_as_carrier(principal: Principal) -> bool:
    return principal.carrier is not None and not principal.is_staff


async def _readable(session: AsyncSession, principal: Principal, member_id: str) -> Member:
    """A member sees only themself and a carrier only the passengers it enrolled (anyone else's record does
    not exist for them); staff need a desk role."""
    if principal.owns_member(member_id) or principal.has(*MEMBER_STAFF, Role.admin, Role.service):
        return await service.get_member(session=session, member_id=member_id)
    if principal.is_member_only:
        raise not_found("member")
    if _acts_as_carrier(principal):
        member = await service.get_member(session=session, member_id=member_id)
        if member.enrolled_by_carrier is None or not principal.is_carrier(member.enrolled_by_carrier):
            raise not_found("member")
        return member
    raise forbidden("your role may not read members")


def _may_change(principal: Principal, member_id: str) -> bool:
    return principal.owns_member(member_id) or principal.has(*MEMBER_STAFF, Role.admin)


def enrolment(principal: Principal, body: MemberCreate) -> tuple[Tier, str | None]:
    """The new member's tier and enrolling carrier: staff state the tier; a carrier enrols its passenger at
    standard, the lowest, and only at it (422 naming body.tier), so a carrier grants no member benefits."""
    if _acts_as_carrier(principal):
        if body.tier not in (None, Tier.standard):
            raise invalid("body.tier", f"a carrier enrols its passengers at tier {Tier.standard.value}; staff give other tiers")
        return Tier.standard, principal.carrier
    if body.tier is None:
        raise invalid("body.tier", "Field required", type_="missing")
    return body.tier, None


@router.post("", summary="Enrol a member", status_code=201, response_model=MemberPublic)
async def create_member(body: MemberCreate, session: SessionDep, principal: Enroller, idempotency: IdempotencyDep) -> Response:
    """Enrol a member (a carrier: its passenger, at tier standard); the answer carries the member's ETag for later changes."""
    tier, carrier = enrolment(principal, body)

    async def act() -> MemberPublic:
        return _public(await service.create_member(session=session, body=body, tier=tier, enrolled_by_carrier=carrier))

    return await idempotency.execute(session, act, status_code=201, headers=lambda member: {"ETag": etag(member.version)})


@router.get("", summary="Find members")
async def search_members(
    session: SessionDep,
    _staff: Annotated[Principal, Depends(require(*MEMBER_STAFF, Role.service))],
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    q: Annotated[str | None, Query(max_length=100, description="Name, phone or card number")] = None,
    limit: LimitQuery = 50,
) -> Page[MemberPublic]:
    """Find members by name, phone or card number."""
    members = await service.search_members(session=session, q=q, after=cursor.after, limit=limit)
    kept, next_cursor = cursor.page(members, limit, lambda member: (member.created_at, member.id))
    return Page(items=[_public(member) for member in kept], next_cursor=next_cursor)


@router.get("/{member_id}", summary="Read a member", response_model=MemberPublic, responses=CONDITIONAL_GET)
async def get_member(member_id: str, session: SessionDep, principal: CurrentUser, if_none_match: IfNoneMatch = None) -> Response:
    """One member, with the ETag to send as If-Match when changing them."""
    member = await _readable(session, principal, member_id)
    return conditional.answer(MemberPublic, _public(member), if_none_match, version=member.version)


@router.patch("/{member_id}", summary="Change a member's details")
async def update_member(
    member_id: str, body: MemberUpdate, expected_version: IfMatch, session: SessionDep, principal: CurrentUser, response: Response
) -> MemberPublic:
    """Change a member's details (staff also their tier); needs If-Match with the ETag read."""
    if not _may_change(principal, member_id):
        # another member's record does not exist for a member; any other role (a carrier too) may not change one
        raise not_found("member") if principal.is_member_only else forbidden("your role may not change members")
    if body.tier is not None and not principal.has(*MEMBER_STAFF, Role.admin):
        raise forbidden("only staff may change a member's tier")
    member = await service.update_member(session=session, member_id=member_id, expected_version=expected_version, body=body)
    await session.commit()
    set_etag(response, member.version)
    return _public(member)

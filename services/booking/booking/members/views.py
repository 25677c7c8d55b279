from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

from airside import conditional
from airside.auth import CurrentUser, Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden, not_found
from airside.types import RecordId
from airside.versioning import IfMatch, etag, set_etag
from booking.members import service
from booking.members.models import MemberCreate, MemberPublic, MemberUpdate

router = APIRouter(prefix="/v1/members", tags=["members"])

MEMBER_STAFF = (Role.agent, Role.team_lead, Role.supervisor, Role.concierge_lead, Role.station_manager)
MemberStaff = Annotated[Principal, Depends(require(*MEMBER_STAFF))]


def _public(member: object) -> MemberPublic:
    return MemberPublic.model_validate(member, from_attributes=True)


def _check_read(principal: Principal, member_id: str) -> None:
    """A member sees only themself (another member's record does not exist for them); staff need a desk role."""
    if principal.owns_member(member_id) or principal.has(*MEMBER_STAFF, Role.admin, Role.service):
        return
    if principal.is_member_only:
        raise not_found("member")
    raise forbidden("your role may not read members")


def _may_change(principal: Principal, member_id: str) -> bool:
    return principal.owns_member(member_id) or principal.has(*MEMBER_STAFF, Role.admin)


@router.post("", summary="Enrol a member", status_code=201, response_model=MemberPublic)
async def create_member(body: MemberCreate, session: SessionDep, _staff: MemberStaff, idempotency: IdempotencyDep) -> Response:
    """Enrol a member; the answer carries the member's ETag for later changes."""

    async def act() -> MemberPublic:
        return _public(await service.create_member(session=session, body=body))

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
    _check_read(principal, member_id)
    member = await service.get_member(session=session, member_id=member_id)
    return conditional.answer(MemberPublic, _public(member), if_none_match, version=member.version)


@router.patch("/{member_id}", summary="Change a member's details")
async def update_member(
    member_id: str, body: MemberUpdate, expected_version: IfMatch, session: SessionDep, principal: CurrentUser, response: Response
) -> MemberPublic:
    """Change a member's details (staff also their tier); needs If-Match with the ETag read."""
    _check_read(principal, member_id)
    if not _may_change(principal, member_id):
        raise forbidden("your role may not change members")
    if body.tier is not None and not principal.has(*MEMBER_STAFF, Role.admin):
        raise forbidden("only staff may change a member's tier")
    member = await service.update_member(session=session, member_id=member_id, expected_version=expected_version, body=body)
    await session.commit()
    set_etag(response, member.version)
    return _public(member)

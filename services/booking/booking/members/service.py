import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from airside.db.columns import utcnow
from airside.events import booking as events
from airside.events.common import Tier
from airside.messaging.outbox import record
from airside.problems import conflict, not_found
from airside.search import contains_text
from airside.versioning import bump_version, stale
from booking.members.models import Member, MemberCreate, MemberUpdate


def _new_card_no() -> str:
    return "AS" + "".join(secrets.choice("0123456789") for _ in range(10))


async def create_member(*, session: AsyncSession, body: MemberCreate, tier: Tier, enrolled_by_carrier: str | None = None) -> Member:
    """The tier is the enroller's to decide (views.enrolment); a carrier's passenger records the carrier."""
    card_no = body.card_no or _new_card_no()
    if await session.scalar(select(func.count()).where(Member.card_no == card_no)):
        raise conflict("card_no_taken", f"card number {card_no} belongs to another member")
    member = Member(name=body.name, phone=body.phone, tier=tier, email=body.email, card_no=card_no, enrolled_by_carrier=enrolled_by_carrier)
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:  # a racing request took the same card number
        raise conflict("card_no_taken", f"card number {card_no} belongs to another member") from exc
    record(session, events.member_registered, events.MemberEvent(member=member.snapshot()), subject=member.id)
    return member


async def get_member(*, session: AsyncSession, member_id: str) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise not_found("member")
    return member


async def update_member(*, session: AsyncSession, member_id: str, expected_version: int, body: MemberUpdate) -> Member:
    member = await get_member(session=session, member_id=member_id)
    if member.version != expected_version:
        raise stale(member.version)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if not await bump_version(session, Member, member_id, expected_version, {**changes, "updated_at": utcnow()}):
        await session.refresh(member)
        raise stale(member.version)
    await session.refresh(member)
    record(session, events.member_updated, events.MemberEvent(member=member.snapshot()), subject=member.id)
    return member


async def search_members(*, session: AsyncSession, q: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Member]:
    query = select(Member).order_by(Member.created_at, Member.id).limit(limit + 1)
    if q:
        term = q.strip()
        query = query.where(
            or_(
                contains_text(Member.name, term),
                Member.phone.endswith(term.lstrip("+"), autoescape=True),  # type: ignore[attr-defined]
                Member.card_no == term.upper(),
            )
        )
    if after is not None:
        query = query.where(tuple_(Member.created_at, Member.id) > tuple_(*after))
    return list((await session.execute(query)).scalars().all())

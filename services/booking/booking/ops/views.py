"""POST /v1/ops/reannounce: snapshots of every member and open order, for a consumer building its copy."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal, Role, require
from airside.db import SessionDep
from airside.events import booking as events
from airside.idempotency import IdempotencyDep
from airside.messaging.outbox import record
from booking.members.models import Member
from booking.orders import records
from booking.orders.models import Order
from booking.orders.transitions import OPEN

router = APIRouter(prefix="/v1/ops", tags=["ops"])


class Reannounced(BaseModel):
    members: int
    orders: int


@router.post("/reannounce")
async def reannounce(
    session: SessionDep, _admin: Annotated[Principal, Depends(require(Role.admin))], idempotency: IdempotencyDep
) -> Reannounced:
    async def act() -> Reannounced:
        return await _record_snapshots(session)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


async def _record_snapshots(session: AsyncSession) -> Reannounced:
    members = 0
    for member in (await session.execute(select(Member).order_by(Member.created_at, Member.id))).scalars():
        record(session, events.member_updated, events.MemberEvent(member=member.snapshot()), subject=member.id)
        members += 1
    orders = 0
    open_orders = select(Order).where(Order.status.in_([status.value for status in OPEN])).order_by(Order.created_at, Order.id)  # type: ignore[attr-defined]
    for order in (await session.execute(open_orders)).scalars():
        record(session, events.order_changed, events.OrderEvent(order=await records.snapshot(session, order)), subject=order.id)
        orders += 1
    return Reannounced(members=members, orders=orders)

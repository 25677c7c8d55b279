"""Who may see and act on an order (docs/booking.md, Routes x roles)."""

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal, Role, require
from airside.problems import forbidden, not_found
from booking.concierges import service as concierges
from booking.orders.models import Order
from booking.orders.reads import get_order

ORDER_DESK = (Role.agent, Role.team_lead, Role.concierge_lead, Role.station_manager)
LEADS = (Role.concierge_lead, Role.station_manager)

Creator = Annotated[Principal, Depends(require(Role.member, Role.carrier, *ORDER_DESK))]  # a carrier: partner orders it pays
Confirmer = Annotated[Principal, Depends(require(*ORDER_DESK))]
Changer = Annotated[Principal, Depends(require(Role.member, *ORDER_DESK))]
Canceller = Annotated[Principal, Depends(require(Role.member, Role.carrier, *ORDER_DESK))]  # a carrier: partner orders it pays
Lead = Annotated[Principal, Depends(require(*LEADS))]
Worker = Annotated[Principal, Depends(require(Role.concierge, *LEADS))]


async def visible_order(session: AsyncSession, principal: Principal, order_id: str) -> Order:
    """A member sees only their own orders; staff only those of their stations; a carrier only the partner
    orders it pays; else 404."""
    order = await get_order(session=session, order_id=order_id)
    ensure_visible(principal, order)
    return order


def ensure_visible(principal: Principal, order: Order) -> None:
    if principal.is_member_only:
        if not principal.owns_member(order.member_id):
            raise not_found("order")
    elif principal.is_staff:
        principal.require_station_to_see(order.station, "order")
    elif order.payer_carrier is None or not principal.is_carrier(order.payer_carrier):  # docs/carriers.md "Partner orders"
        raise not_found("order")


def ensure_worker(principal: Principal, order: Order, assigned_subject: str | None) -> None:
    """order_for_worker's rule when the assigned concierge's subject is already read (lean paths)."""
    ensure_visible(principal, order)
    if principal.has(*LEADS, Role.admin):
        return
    if order.concierge_id is None or assigned_subject != principal.sub:
        raise forbidden("this order is not assigned to you")


async def order_for_worker(session: AsyncSession, principal: Principal, order_id: str) -> Order:
    """Leads act on every order of their stations; a concierge only on the orders assigned to them."""
    order = await visible_order(session, principal, order_id)
    if principal.has(*LEADS, Role.admin):
        return order
    concierge = await concierges.concierge_for_subject(session=session, subject=principal.sub)
    if concierge is None or order.concierge_id != concierge.id:
        raise forbidden("this order is not assigned to you")
    return order

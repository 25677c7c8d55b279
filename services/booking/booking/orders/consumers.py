"""Lounge visits move orders into and out of `in_lounge`; events that do not fit the state are ignored.

A visit's events may arrive in any order and any number of times (retries reorder them). The order's
history remembers what each visit did, so a late check-in never undoes its check-out, and a check-out
whose check-in has not arrived yet still takes the order through the lounge as in-order delivery does.
booking.subscriptions runs these handlers on the durable consumer of lounge's visit events.
"""

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.events import lounge as lounge_events
from airside.events.booking import OrderStatus
from airside.messaging.envelope import CloudEvent
from airside.messaging.outbox import record
from airside.messaging.streams import Handler
from booking.orders import saving, snapshots
from booking.orders.models import Order, OrderHistory

log = logging.getLogger("booking.visits")
ACTOR = "airside/lounge"
LOUNGE = "LOUNGE"
ENTERED, LEFT = "in_lounge", frozenset({"left_lounge", "completed"})


def lounge_only(order: Order) -> bool:
    """An order whose only item is LOUNGE needs no concierge."""
    return order.products == [LOUNGE]


def entering(order: Order) -> bool:
    return order.status == OrderStatus.in_service or (lounge_only(order) and order.status == OrderStatus.confirmed)


async def _order_of(session: AsyncSession, visit: lounge_events.VisitSnapshot) -> Order | None:
    if not visit.order_id:
        return None
    return await session.get(Order, visit.order_id)


async def _visit_did(session: AsyncSession, order: Order, visit_id: str) -> set[str]:
    """What this visit already did to the order, from its history (a handful of lines per order)."""
    lines = await session.execute(
        select(OrderHistory.action, OrderHistory.details).where(OrderHistory.order_id == order.id, OrderHistory.actor == ACTOR)
    )
    return {action for action, details in lines.all() if (details or {}).get("visit_id") == visit_id}


async def _enter(session: AsyncSession, order: Order, visit_id: str) -> Order:
    order = await saving.save(
        session, order, values={"status": OrderStatus.in_lounge.value}, action=ENTERED, actor=ACTOR, details={"visit_id": visit_id}
    )
    record(
        session,
        events.order_in_lounge,
        events.OrderInLounge(order=await snapshots.snapshot(session, order), visit_id=visit_id),
        subject=order.id,
    )
    return order


async def on_checked_in(session: AsyncSession, event: CloudEvent) -> None:
    visit = lounge_events.visit_checked_in.parse(event).visit
    order = await _order_of(session, visit)
    if order is None:
        return
    if not entering(order) or await _visit_did(session, order, visit.id) & LEFT:  # e.g. late, after its check-out
        log.info("check-in ignored", extra={"order_id": order.id, "status": order.status, "visit_id": visit.id})
        return
    await _enter(session, order, visit.id)


async def on_checked_out(session: AsyncSession, event: CloudEvent) -> None:
    visit = lounge_events.visit_checked_out.parse(event).visit
    order = await _order_of(session, visit)
    if order is None:
        return
    done = await _visit_did(session, order, visit.id)
    if done & LEFT:
        return  # this visit's check-out was applied already
    if order.status != OrderStatus.in_lounge:
        if ENTERED in done or not entering(order):
            return
        order = await _enter(session, order, visit.id)  # its check-in is late: the guest was in the lounge all the same
    if lounge_only(order):
        order = await saving.save(
            session, order, values={"status": OrderStatus.completed.value}, action="completed", actor=ACTOR, details={"visit_id": visit.id}
        )
        record(session, events.order_completed, events.OrderCompleted(order=await snapshots.snapshot(session, order)), subject=order.id)
        return
    order = await saving.save(
        session, order, values={"status": OrderStatus.in_service.value}, action="left_lounge", actor=ACTOR, details={"visit_id": visit.id}
    )
    record(session, events.order_changed, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id)


HANDLERS: dict[str, Handler] = {lounge_events.visit_checked_in.type: on_checked_in, lounge_events.visit_checked_out.type: on_checked_out}

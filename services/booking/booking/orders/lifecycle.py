"""An order's status moves: confirm, assign, start, complete, no-show, cancel (docs/booking.md "Status machine";
the machine itself is transitions.py)."""

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.auth import Principal
from airside.db.database import Database
from airside.db.rows import row_instance
from airside.events import booking as events
from airside.events.booking import OrderStatus
from airside.events.common import Money, Person
from airside.idempotency import LOOKUP, Idempotency, encode
from airside.messaging.outbox import OUTBOX, outbox_values, record, wake_relays
from airside.problems import conflict, not_found
from airside.statements import Duplicate, Runner, apply
from airside.versioning import etag
from booking.flights.models import Flight
from booking.orders import fees, saving, snapshots, statements, times
from booking.orders.access import ensure_worker
from booking.orders.availability import lock_concierge, unavailable_because
from booking.orders.models import CancelBody, CompleteBody, NoShowBody, Order
from booking.orders.transitions import require_transition
from booking.products import service as products


async def confirm(*, session: AsyncSession, order: Order, actor: str, notes: str | None) -> Order:
    require_transition("confirm", order.status)
    order = await saving.save(
        session, order, values={"status": OrderStatus.confirmed.value}, action="confirmed", actor=actor, details={"notes": notes}
    )
    record(session, events.order_confirmed, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id)
    return order


async def needs_concierge(session: AsyncSession, order: Order) -> bool:
    chosen = await products.products_by_code(session=session, codes=order.products)
    return any(product.needs_concierge for product in chosen.values())


async def assign(*, session: AsyncSession, order: Order, concierge_id: str, actor: str) -> Order:
    """Lock the concierge first, then check station, shifts and overlaps: racing assignments see each other."""
    require_transition("assign", order.status)
    if not await needs_concierge(session, order):
        raise conflict("no_concierge_needed", "this order has only lounge access; no concierge is assigned")
    concierge = await lock_concierge(session=session, concierge_id=concierge_id)
    reason = await unavailable_because(session=session, concierge=concierge, order=order)
    if reason is not None:
        raise conflict("concierge_unavailable", reason, concierge_id=concierge_id)
    previous = order.concierge_id
    order = await saving.save(
        session,
        order,
        values={"status": OrderStatus.assigned.value, "concierge_id": concierge_id},
        action="assigned",
        actor=actor,
        details={"concierge_id": concierge_id, "previous_concierge_id": previous},
    )
    record(session, events.order_assigned, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id)
    return order


async def start(*, session: AsyncSession, order: Order, actor: str) -> Order:
    require_transition("start", order.status)
    order = await saving.save(session, order, values={"status": OrderStatus.in_service.value}, action="started", actor=actor)
    record(session, events.order_started, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id)
    return order


async def complete(*, db: Database, order_id: str, principal: Principal, body: CompleteBody, idempotency: Idempotency) -> JSONResponse:
    """The hot move (P2's producer): one read of the order with its flight, concierge and any stored answer,
    one write plan (the versioned save, its history line, order.completed, the answer)."""
    async with Runner.open(db) as run:
        row = await run.first(statements.ORDER_IN_CONTEXT, {"order_id": order_id, **idempotency.params()})
        if row is None:
            raise not_found("order")
        order = row_instance(Order, {name: row[name] for name in statements.ORDER_COLUMNS})
        ensure_worker(principal, order, row["concierge_subject"])  # who may act comes before a replay
        if (replay := idempotency.replay_of(row)) is not None:
            return replay
        require_transition("complete", order.status)
        collected = body.fees_collected
        values: dict[str, object] = {
            "status": OrderStatus.completed.value,
            "fees_collected_minor": order.fees_collected_minor,
            "fees_method": order.fees_method,
        }
        if collected is not None:
            values.update(fees_collected_minor=collected.amount_minor, fees_method=collected.method)
        plan, done = saving.change_plan(order, values, action="completed", actor=principal.sub)
        flight = row_instance(Flight, statements.prefixed(row, "flight_", statements.FLIGHT_COLUMNS)) if row["flight_flight_no"] else None
        concierge = Person(id=order.concierge_id, name=row["concierge_name"] or "") if order.concierge_id else None
        snapshot = snapshots.snapshot_of(done, flight, concierge)
        payload = events.OrderCompleted(
            order=snapshot, fees_collected=events.FeesCollected(**collected.model_dump()) if collected else None
        )
        event, _envelope = outbox_values(events.order_completed, payload, subject=order.id)
        plan.add(OUTBOX, event)
        answer, headers = encode(snapshots.public_of(done, snapshot)), {"ETag": etag(done.version)}
        idempotency.add_record(plan, 200, answer, headers)
        try:
            written = await apply(run, plan)
        except Duplicate:
            written = False
        if not written:
            # A racing request changed the order first; if it was this request's first try, its answer is the answer.
            if (replay := idempotency.replay_of(await run.first(LOOKUP, idempotency.params()))) is not None:
                return replay
            raise saving.concurrent_change()
    wake_relays()
    return JSONResponse(answer, headers=headers)


async def no_show(*, session: AsyncSession, order: Order, actor: str, body: NoShowBody) -> Order:
    """Only from assigned, and not before meet_at + 30 min; the fee is the whole price."""
    require_transition("no-show", order.status)
    earliest = order.meet_at + times.NO_SHOW_AFTER
    if clock.now() < earliest:
        raise conflict("too_early", f"a no-show can be recorded from {earliest.isoformat()}, 30 minutes after the meeting time")
    fee = fees.no_show_fee(order.price_minor)
    order = await saving.save(
        session,
        order,
        values={"status": OrderStatus.no_show.value, "no_show_fee_minor": fee},
        action="no_show",
        actor=actor,
        details={"contact_attempts": body.contact_attempts, "notes": body.notes},
    )
    payload = events.OrderNoShow(
        order=await snapshots.snapshot(session, order),
        contact_attempts=body.contact_attempts,
        notes=body.notes,
        fee=Money(amount_minor=fee, currency=order.currency),
    )
    record(session, events.order_no_show, payload, subject=order.id)
    return order


async def cancel(*, session: AsyncSession, order: Order, actor: str, body: CancelBody) -> Order:
    """Free more than 24 h ahead (24 h exactly too), 50% down to 2 h (2 h exactly too), then 100%; free if the flight is cancelled."""
    require_transition("cancel", order.status)
    flight = await session.get(Flight, (order.flight_no, order.flight_date))
    fee = fees.cancellation_fee(
        price_minor=order.price_minor, meet_at=order.meet_at, now=clock.now(), flight_cancelled=bool(flight and flight.cancelled)
    )
    order = await saving.save(
        session,
        order,
        values={"status": OrderStatus.cancelled.value, "cancellation_fee_minor": fee, "cancel_reason": body.reason},
        action="cancelled",
        actor=actor,
        details={"reason": body.reason, "cancellation_fee_minor": fee},
    )
    payload = events.OrderCancelled(
        order=await snapshots.snapshot(session, order),
        reason=body.reason,
        cancellation_fee=Money(amount_minor=fee, currency=order.currency),
    )
    record(session, events.order_cancelled, payload, subject=order.id)
    return order

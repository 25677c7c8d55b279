"""The status moves of an order, each idempotent under Idempotency-Key."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from airside.db.dependencies import DatabaseDep, SessionDep
from airside.idempotency import Idempotency, IdempotencyDep
from airside.versioning import etag
from booking.orders import lifecycle, snapshots
from booking.orders.access import Canceller, Confirmer, Lead, Worker, order_for_worker, visible_order
from booking.orders.models import AssignBody, CancelBody, CompleteBody, ConfirmBody, NoShowBody, Order, OrderPublic

router = APIRouter(prefix="/v1/orders", tags=["orders"])


async def _run(session: AsyncSession, idempotency: Idempotency, act: Callable[[], Awaitable[Order]]) -> JSONResponse:
    async def respond() -> OrderPublic:
        return await snapshots.public(session, await act())

    return await idempotency.execute(session, respond, headers=lambda order: {"ETag": etag(order.version)})


@router.post("/{order_id}/confirm", summary="Confirm an order", response_model=OrderPublic)
async def confirm(
    order_id: str, session: SessionDep, principal: Confirmer, idempotency: IdempotencyDep, body: ConfirmBody | None = None
) -> JSONResponse:
    """Confirm a requested order."""
    order = await visible_order(session, principal, order_id)
    return await _run(
        session,
        idempotency,
        lambda: lifecycle.confirm(session=session, order=order, actor=principal.sub, notes=body.notes if body else None),
    )


@router.post("/{order_id}/assign", summary="Assign a concierge to an order", response_model=OrderPublic)
async def assign(order_id: str, body: AssignBody, session: SessionDep, principal: Lead, idempotency: IdempotencyDep) -> JSONResponse:
    """Assign a concierge on shift and free at the order's time."""
    order = await visible_order(session, principal, order_id)
    return await _run(
        session, idempotency, lambda: lifecycle.assign(session=session, order=order, concierge_id=body.concierge_id, actor=principal.sub)
    )


@router.post("/{order_id}/start", summary="Start the service of an order", response_model=OrderPublic)
async def start(order_id: str, session: SessionDep, principal: Worker, idempotency: IdempotencyDep) -> JSONResponse:
    """Record that the concierge met the passengers: the service is under way."""
    order = await order_for_worker(session, principal, order_id)
    return await _run(session, idempotency, lambda: lifecycle.start(session=session, order=order, actor=principal.sub))


@router.post("/{order_id}/complete", summary="Complete an order", response_model=OrderPublic)
async def complete(
    order_id: str, db: DatabaseDep, principal: Worker, idempotency: IdempotencyDep, body: CompleteBody | None = None
) -> JSONResponse:
    """Record that the service was given, with any fees collected."""
    return await lifecycle.complete(db=db, order_id=order_id, principal=principal, body=body or CompleteBody(), idempotency=idempotency)


@router.post("/{order_id}/no-show", summary="Record a no-show", response_model=OrderPublic)
async def no_show(order_id: str, body: NoShowBody, session: SessionDep, principal: Worker, idempotency: IdempotencyDep) -> JSONResponse:
    """Record that the passengers did not come (from 30 minutes after the meeting time)."""
    order = await order_for_worker(session, principal, order_id)
    return await _run(session, idempotency, lambda: lifecycle.no_show(session=session, order=order, actor=principal.sub, body=body))


@router.post("/{order_id}/cancel", summary="Cancel an order", response_model=OrderPublic)
async def cancel(order_id: str, body: CancelBody, session: SessionDep, principal: Canceller, idempotency: IdempotencyDep) -> JSONResponse:
    """Cancel an order that has not started, with a reason (a carrier: a partner order it pays)."""
    order = await visible_order(session, principal, order_id)
    return await _run(session, idempotency, lambda: lifecycle.cancel(session=session, order=order, actor=principal.sub, body=body))

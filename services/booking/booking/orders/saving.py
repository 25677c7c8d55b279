"""The versioned save of an order: a change is written only on the version read (a racing change makes
it a 409), together with the history line of the version it writes."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.db.rows import row_instance
from airside.problems import conflict
from airside.statements import Runner, WritePlan, apply
from booking.orders.models import Order
from booking.orders.statements import HISTORY, ORDER_COLUMNS, order_change


def history_row(order: Order, *, action: str, actor: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The history line of the order's version just written."""
    return {
        "order_id": order.id,
        "version": order.version,
        "action": action,
        "status": order.status,
        "actor": actor,
        "at": clock.now(),
        "details": details or {},
    }


def change_plan(
    order: Order, values: dict[str, Any], *, action: str, actor: str, details: dict[str, Any] | None = None
) -> tuple[WritePlan, Order]:
    """The versioned save of `values` on the order as read, with its history line: the plan and the order it writes."""
    names = tuple(sorted(values))
    changed = {**values, "updated_at": clock.now()}
    done = row_instance(Order, {**{name: getattr(order, name) for name in ORDER_COLUMNS}, **changed, "version": order.version + 1})
    head = {f"set_{name}": value for name, value in changed.items()}
    plan = WritePlan(order_change(names), {**head, "where_id": order.id, "where_version": order.version})
    plan.add(HISTORY, history_row(done, action=action, actor=actor, details=details))
    return plan, done


def concurrent_change() -> Exception:
    return conflict("concurrent_change", "the order changed while this request ran; read it again and retry")


async def save(
    session: AsyncSession, order: Order, *, values: dict[str, Any], action: str, actor: str, details: dict[str, Any] | None = None
) -> Order:
    """Apply a change only to the version we read (a racing change makes this one a 409), and keep it in history."""
    plan, _done = change_plan(order, values, action=action, actor=actor, details=details)
    if not await apply(await Runner.of_session(session), plan):
        raise concurrent_change()
    await session.refresh(order)
    return order

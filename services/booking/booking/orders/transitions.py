"""The status machine of an order; any other move is 409 illegal_transition naming the status."""

from airside.events.booking import OrderStatus
from airside.problems import Problem, conflict

ALLOWED_FROM: dict[str, frozenset[OrderStatus]] = {
    "confirm": frozenset({OrderStatus.requested}),
    "assign": frozenset({OrderStatus.confirmed, OrderStatus.assigned}),  # reassigning is allowed
    "start": frozenset({OrderStatus.assigned}),
    "complete": frozenset({OrderStatus.in_service, OrderStatus.in_lounge}),
    "no-show": frozenset({OrderStatus.assigned}),
    "cancel": frozenset({OrderStatus.requested, OrderStatus.confirmed, OrderStatus.assigned}),
    "change": frozenset({OrderStatus.requested, OrderStatus.confirmed, OrderStatus.assigned}),
}

OPEN = frozenset({OrderStatus.requested, OrderStatus.confirmed, OrderStatus.assigned, OrderStatus.in_service, OrderStatus.in_lounge})
RESCHEDULABLE = frozenset({OrderStatus.requested, OrderStatus.confirmed, OrderStatus.assigned})
HOLDS_CONCIERGE = frozenset({OrderStatus.assigned, OrderStatus.in_service, OrderStatus.in_lounge})


def illegal(action: str, current: str) -> Problem:
    return conflict(
        "illegal_transition",
        f"an order that is {current} cannot {action.replace('-', ' ')}",
        current_status=current,
        action=action,
    )


def require_transition(action: str, current: str) -> None:
    if current not in ALLOWED_FROM[action]:
        raise illegal(action, current)

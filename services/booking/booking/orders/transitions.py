"""The status machine of an order; any other move is 409 illegal_transition naming the status."""

from enum import StrEnum

from airside.problems import Problem, conflict


class Status(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    assigned = "assigned"
    in_service = "in_service"
    in_lounge = "in_lounge"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"


ALLOWED_FROM: dict[str, frozenset[Status]] = {
    "confirm": frozenset({Status.requested}),
    "assign": frozenset({Status.confirmed, Status.assigned}),  # reassigning is allowed
    "start": frozenset({Status.assigned}),
    "complete": frozenset({Status.in_service, Status.in_lounge}),
    "no-show": frozenset({Status.assigned}),
    "cancel": frozenset({Status.requested, Status.confirmed, Status.assigned}),
    "change": frozenset({Status.requested, Status.confirmed, Status.assigned}),
}

OPEN = frozenset({Status.requested, Status.confirmed, Status.assigned, Status.in_service, Status.in_lounge})
RESCHEDULABLE = frozenset({Status.requested, Status.confirmed, Status.assigned})
HOLDS_CONCIERGE = frozenset({Status.assigned, Status.in_service, Status.in_lounge})


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

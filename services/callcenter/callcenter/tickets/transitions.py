"""The ticket status machine (any other move is 409 illegal_transition) and a complaint's stages, which complaints moves."""

from enum import StrEnum

from airside.problems import conflict


class Status(StrEnum):
    new = "new"
    open = "open"
    pending_customer = "pending_customer"
    pending_internal = "pending_internal"
    resolved = "resolved"
    closed = "closed"
    merged = "merged"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.new: frozenset({Status.open, Status.pending_customer, Status.pending_internal, Status.resolved, Status.merged}),
    Status.open: frozenset({Status.pending_customer, Status.pending_internal, Status.resolved, Status.merged}),
    Status.pending_customer: frozenset({Status.open, Status.pending_internal, Status.resolved, Status.merged}),
    Status.pending_internal: frozenset({Status.open, Status.pending_customer, Status.resolved, Status.merged}),
    Status.resolved: frozenset({Status.open, Status.closed}),  # reopen, or close
    Status.closed: frozenset(),
    Status.merged: frozenset(),
}

ACTIVE = frozenset({Status.new, Status.open, Status.pending_customer, Status.pending_internal})
# The SLA clock runs only in these; it stops while waiting on the customer.
CLOCK_RUNS = frozenset({Status.new, Status.open, Status.pending_internal})
CLAIMABLE = frozenset({Status.new, Status.open})


def can_move(current: str, target: str) -> bool:
    return Status(target) in ALLOWED[Status(current)]


def require_move(current: str, target: str) -> None:
    if target not in Status.__members__ or not can_move(current, target):
        raise conflict(
            "illegal_transition", f"a ticket that is {current} cannot become {target}", current_status=current, requested_status=target
        )


class Stage(StrEnum):
    """A complaint ticket's workflow stage; it is resolved or closed only once the stage is closed."""

    registered = "registered"
    investigating = "investigating"
    resolution_proposed = "resolution_proposed"
    awaiting_approval = "awaiting_approval"
    approved = "approved"
    customer_informed = "customer_informed"
    follow_up = "follow_up"
    closed = "closed"

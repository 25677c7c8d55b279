"""The ticket status machine (any other move is 409 illegal_transition) and a complaint's stages, which complaints moves."""

from enum import StrEnum

from airside.problems import conflict


class TicketStatus(StrEnum):
    new = "new"
    open = "open"
    pending_customer = "pending_customer"
    pending_internal = "pending_internal"
    resolved = "resolved"
    closed = "closed"
    merged = "merged"


ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.new: frozenset(
        {TicketStatus.open, TicketStatus.pending_customer, TicketStatus.pending_internal, TicketStatus.resolved, TicketStatus.merged}
    ),
    TicketStatus.open: frozenset(
        {TicketStatus.pending_customer, TicketStatus.pending_internal, TicketStatus.resolved, TicketStatus.merged}
    ),
    TicketStatus.pending_customer: frozenset(
        {TicketStatus.open, TicketStatus.pending_internal, TicketStatus.resolved, TicketStatus.merged}
    ),
    TicketStatus.pending_internal: frozenset(
        {TicketStatus.open, TicketStatus.pending_customer, TicketStatus.resolved, TicketStatus.merged}
    ),
    TicketStatus.resolved: frozenset({TicketStatus.open, TicketStatus.closed}),  # reopen, or close
    TicketStatus.closed: frozenset(),
    TicketStatus.merged: frozenset(),
}

ACTIVE = frozenset({TicketStatus.new, TicketStatus.open, TicketStatus.pending_customer, TicketStatus.pending_internal})
# The SLA clock runs only in these; it stops while waiting on the customer.
CLOCK_RUNS = frozenset({TicketStatus.new, TicketStatus.open, TicketStatus.pending_internal})
CLAIMABLE = frozenset({TicketStatus.new, TicketStatus.open})


def can_move(current: str, target: str) -> bool:
    return TicketStatus(target) in ALLOWED[TicketStatus(current)]


def require_move(current: str, target: str) -> None:
    if target not in TicketStatus.__members__ or not can_move(current, target):
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

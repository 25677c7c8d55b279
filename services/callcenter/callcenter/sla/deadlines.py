"""The SLA clock of one ticket as pure functions: elapsed business minutes, deadlines, thresholds.

A ticket keeps, per target, the business minutes already used up to `anchor` and whether its clock
runs (not while pending_customer, not after the target is met). Deadlines and threshold instants
follow from that and the station calendar, so they can be recomputed whenever priority or status
change without losing the time already spent.
"""

from dataclasses import dataclass
from datetime import datetime

from callcenter.business_time import BusinessCalendar, add_business_minutes, business_minutes_between

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)

WARNING, BREACHED, ESCALATED_2 = "warning", "breached", "escalated_2"
# At 80% a warning; at 100% the breach (and escalation level 1); at 150% escalation level 2.
THRESHOLDS = ((0.8, WARNING), (1.0, BREACHED), (1.5, ESCALATED_2))

# One bit per (target, threshold) in ticket.sla_fired: each fires once per ticket and target.
BITS = {
    (target, kind): 1 << (index * len(THRESHOLDS) + offset)
    for index, target in enumerate(TARGETS)
    for offset, (_f, kind) in enumerate(THRESHOLDS)
}


@dataclass(frozen=True)
class TargetClock:
    target: str
    minutes: int  # the policy's business minutes for this target
    elapsed: float  # business minutes used up to the anchor
    running: bool


def elapsed_now(clock: TargetClock, anchor: datetime, now: datetime, calendar: BusinessCalendar) -> float:
    if not clock.running:
        return clock.elapsed
    return clock.elapsed + business_minutes_between(anchor, now, calendar)


def instant_of(clock: TargetClock, fraction: float, anchor: datetime, calendar: BusinessCalendar) -> datetime:
    """When `fraction` of the target is used up, given the clock keeps running from `anchor`."""
    return add_business_minutes(anchor, fraction * clock.minutes - clock.elapsed, calendar)


def due_at(clock: TargetClock, anchor: datetime, calendar: BusinessCalendar) -> datetime:
    return instant_of(clock, 1.0, anchor, calendar)


def firings_due(
    clocks: list[TargetClock], anchor: datetime, now: datetime, fired: int, calendar: BusinessCalendar
) -> list[tuple[str, str]]:
    """(target, kind) thresholds reached by `now` and not fired yet, in firing order."""
    due: list[tuple[str, str]] = []
    for clock in clocks:
        if not clock.running:
            continue
        used = elapsed_now(clock, anchor, now, calendar)
        for fraction, kind in THRESHOLDS:
            if used >= fraction * clock.minutes and not fired & BITS[(clock.target, kind)]:
                due.append((clock.target, kind))
    return due


def next_check(clocks: list[TargetClock], anchor: datetime, fired: int, calendar: BusinessCalendar) -> datetime | None:
    """The earliest unfired threshold of a running clock: when the timer job must look again."""
    instants = [
        instant_of(clock, fraction, anchor, calendar)
        for clock in clocks
        if clock.running
        for fraction, kind in THRESHOLDS
        if not fired & BITS[(clock.target, kind)]
    ]
    return min(instants) if instants else None

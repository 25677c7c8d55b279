"""Fee rules (docs/booking.md), pure: late booking, cancellation windows, no-show."""

from datetime import datetime, timedelta

LATE_FEE_PERCENT = 20
FREE_CANCELLATION_BEFORE = timedelta(hours=24)  # exactly 24 h before is still free
HALF_FEE_BEFORE = timedelta(hours=2)  # exactly 2 h before is still 50%


def percent_of(amount_minor: int, percent: int) -> int:
    """Rounded half up to the fen."""
    return (amount_minor * percent + 50) // 100


def late_fee(base_minor: int) -> int:
    return percent_of(base_minor, LATE_FEE_PERCENT)


def cancellation_percent(*, meet_at: datetime, now: datetime, flight_cancelled: bool) -> int:
    if flight_cancelled:
        return 0
    ahead = meet_at - now
    if ahead >= FREE_CANCELLATION_BEFORE:
        return 0
    if ahead >= HALF_FEE_BEFORE:
        return 50
    return 100


def cancellation_fee(*, price_minor: int, meet_at: datetime, now: datetime, flight_cancelled: bool) -> int:
    return percent_of(price_minor, cancellation_percent(meet_at=meet_at, now=now, flight_cancelled=flight_cancelled))


def no_show_fee(price_minor: int) -> int:
    return price_minor

"""Business-time arithmetic: pure functions over a station calendar (no database, no clock).

Business hours are one window per local day (09:00-22:00 by default, the two shifts together)
minus the station's holidays. Every instant in and out is UTC-aware; the local calendar is
applied through the station's time zone.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Ten years of holidays in a row would be a misconfiguration, not a calendar.
MAX_DAYS = 3660

CALLING_STARTS = time(9)
CALLING_ENDS = time(21)


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    opens: time = time(9)
    closes: time = time(22)
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business-hour windows (UTC) that end after `start`, the first one clipped to `start`."""
        zone = self.zone
        day = start.astimezone(zone).date()
        for _ in range(MAX_DAYS):
            if day not in self.holidays:
                open_at = datetime.combine(day, self.opens, tzinfo=zone).astimezone(UTC)
                close_at = datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC)
                if close_at > start:
                    yield max(open_at, start), close_at
            day += timedelta(days=1)
        raise ValueError("no business hours within ten years: check the station calendar")


def add_business_minutes(start: datetime, minutes: float, calendar: BusinessCalendar) -> datetime:
    """The instant `minutes` business minutes after `start` (a deadline that lands on closing is closing)."""
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return start
    for window_start, window_end in calendar.windows_from(start):
        span = window_end - window_start
        if remaining <= span:
            return window_start + remaining
        remaining -= span
    raise AssertionError("unreachable")  # windows_from raises first


def business_minutes_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Business minutes elapsed from `start` to `end` (0 when end is not after start)."""
    if end <= start:
        return 0.0
    total = timedelta(0)
    for window_start, window_end in calendar.windows_from(start):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total.total_seconds() / 60


def _local_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def within_calling_hours(at: datetime, timezone: str) -> datetime:
    """`at` if customers may be called then (09:00-21:00 local), else the start of the next window."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    if CALLING_STARTS <= local.time() < CALLING_ENDS:
        return at
    if local.time() < CALLING_STARTS:
        return _local_at(local.date(), CALLING_STARTS, zone)
    return _local_at(local.date() + timedelta(days=1), CALLING_STARTS, zone)


def next_calling_window(at: datetime, timezone: str) -> datetime:
    """The start of the calling window after the one `at` falls in (a no-answer retry)."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    if local.time() < CALLING_STARTS:
        return _local_at(local.date(), CALLING_STARTS, zone)
    return _local_at(local.date() + timedelta(days=1), CALLING_STARTS, zone)

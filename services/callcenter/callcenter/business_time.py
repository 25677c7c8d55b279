"""Business-time arithmetic: pure functions over a station calendar (no database, no clock).

Business hours are one window per local day (09:00-22:00 by default, the two shifts together)
minus the station's holidays. Every instant in and out is UTC-aware; the local calendar is
applied through the station's time zone.
"""

import functools
import itertools
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
        days = _days(self)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            window = days.window(day)
            if window is not None and window[1] > start:
                yield max(window[0], start), window[1]
            day += timedelta(days=1)
        raise ValueError("no business hours within ten years: check the station calendar")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """A local day's business hours in UTC; None on a holiday."""
        if day in self.holidays:
            return None
        opens, closes = (datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC) for at in (self.opens, self.closes))
        return opens, closes


class _Days:
    """A calendar's days as worked out so far, a contiguous run, with the business seconds before each: the
    clock of a ticket a year old is read at every change of the ticket, and walking its year (two time-zone
    conversions a day) was most of a claim's CPU (bench/PROFILE.md, P4)."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.first: date | None = None
        self.windows: list[tuple[datetime, datetime] | None] = []
        self.before: list[float] = [0.0]  # before[i]: business seconds of the days first .. first + i - 1

    def _index(self, day: date) -> int:
        if self.first is None or day < self.first:
            self._extend_back(day)
        assert self.first is not None
        index = (day - self.first).days
        while index >= len(self.windows):
            window = self.calendar.window(self.first + timedelta(days=len(self.windows)))
            self.windows.append(window)
            self.before.append(self.before[-1] + _seconds(window))
        return index

    def _extend_back(self, day: date) -> None:
        count = (self.first - day).days if self.first is not None else 0
        added = [self.calendar.window(day + timedelta(days=offset)) for offset in range(count)]
        self.first, self.windows = day, added + self.windows
        self.before = list(itertools.accumulate(map(_seconds, self.windows), initial=0.0))

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        index = self._index(day)  # first: it may rebuild the lists
        return self.windows[index]

    def seconds_between_days(self, first: date, last: date) -> float:
        """Business seconds of the whole days from `first` up to, not including, `last` (a later day)."""
        start = self._index(first)  # first: reaching back rebuilds the lists, reaching forward only appends
        end = self._index(last)
        return self.before[end] - self.before[start]


def _seconds(window: tuple[datetime, datetime] | None) -> float:
    return 0.0 if window is None else (window[1] - window[0]).total_seconds()


@functools.lru_cache(maxsize=256)
def _days(calendar: BusinessCalendar) -> _Days:
    """One per calendar: a changed calendar is another key, so nothing stale is read."""
    return _Days(calendar)


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
    days, zone = _days(calendar), calendar.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()

    def within(day: date) -> float:
        window = days.window(day)
        if window is None:
            return 0.0
        return max(0.0, (min(window[1], end) - max(window[0], start)).total_seconds())

    if (last - first).days >= MAX_DAYS:
        raise ValueError("no business hours within ten years: check the station calendar")
    if first == last:
        return within(first) / 60
    whole_days = days.seconds_between_days(first + timedelta(days=1), last)
    return (within(first) + whole_days + within(last)) / 60


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

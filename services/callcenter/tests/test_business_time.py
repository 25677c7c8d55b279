"""Business minutes: 09:00-22:00 Beijing time, holidays skipped; the calling window 09:00-21:00."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from cc_support import DAY, local
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.business_time import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    next_calling_window,
    within_calling_hours,
)
from callcenter.sla.deadlines import FIRST_RESPONSE, TargetClock, due_at, elapsed_now, firings_due, next_check

CALENDAR = BusinessCalendar("Asia/Shanghai", time(9), time(22), frozenset({date(2030, 3, 6)}))
PLAIN = BusinessCalendar("Asia/Shanghai")
NEXT = date(2030, 3, 6)


def test_minutes_inside_one_day():
    assert add_business_minutes(local(DAY, 10), 30, PLAIN) == local(DAY, 10, 30)
    assert business_minutes_between(local(DAY, 10), local(DAY, 10, 30), PLAIN) == 30


def test_across_the_2200_close_continues_at_0900_next_day():
    # 21:50 + 30 business minutes: 10 today, 20 tomorrow.
    assert add_business_minutes(local(DAY, 21, 50), 30, PLAIN) == local(NEXT, 9, 20)
    assert business_minutes_between(local(DAY, 21, 50), local(NEXT, 9, 20), PLAIN) == 30


def test_a_deadline_landing_on_closing_time_is_closing_time():
    assert add_business_minutes(local(DAY, 21, 30), 30, PLAIN) == local(DAY, 22)


def test_overnight_start_counts_from_opening():
    assert add_business_minutes(local(DAY, 23, 15), 15, PLAIN) == local(NEXT, 9, 15)
    assert add_business_minutes(local(DAY, 3), 60, PLAIN) == local(DAY, 10)
    assert business_minutes_between(local(DAY, 22), local(NEXT, 9), PLAIN) == 0


def test_a_holiday_is_skipped_whole():
    # 2030-03-06 is a holiday: 21:50 + 30 lands on the 7th.
    assert add_business_minutes(local(DAY, 21, 50), 30, CALENDAR) == local(date(2030, 3, 7), 9, 20)
    assert business_minutes_between(local(DAY, 21), local(date(2030, 3, 7), 10), CALENDAR) == 120
    # A business day is 13 hours: 1440 minutes from 09:00 are 780 today and 660 tomorrow.
    assert add_business_minutes(local(DAY, 9), 1440, PLAIN) == local(NEXT, 20)


def test_the_clock_pauses_and_resumes():
    # 20 minutes used, then paused overnight: the deadline is counted from the resume.
    clock = TargetClock(FIRST_RESPONSE, minutes=30, elapsed=20, running=True)
    assert due_at(clock, local(NEXT, 15), PLAIN) == local(NEXT, 15, 10)
    assert elapsed_now(clock, local(NEXT, 15), local(NEXT, 15, 5), PLAIN) == 25
    paused = TargetClock(FIRST_RESPONSE, minutes=30, elapsed=20, running=False)
    assert elapsed_now(paused, local(NEXT, 15), local(date(2030, 3, 9), 15), PLAIN) == 20
    assert next_check([paused], local(NEXT, 15), 0, PLAIN) is None


def test_thresholds_fire_in_order_and_once():
    clock = TargetClock(FIRST_RESPONSE, minutes=30, elapsed=0, running=True)
    start = local(DAY, 10)
    assert next_check([clock], start, 0, PLAIN) == local(DAY, 10, 24)
    assert firings_due([clock], start, local(DAY, 10, 23), 0, PLAIN) == []
    assert firings_due([clock], start, local(DAY, 10, 45), 0, PLAIN) == [
        (FIRST_RESPONSE, "warning"),
        (FIRST_RESPONSE, "breached"),
        (FIRST_RESPONSE, "escalated_2"),
    ]
    assert firings_due([clock], start, local(DAY, 10, 45), 0b111, PLAIN) == []


def test_calling_hours_push_to_the_next_window():
    assert within_calling_hours(local(DAY, 21, 30), "Asia/Shanghai") == local(NEXT, 9)
    assert within_calling_hours(local(DAY, 7), "Asia/Shanghai") == local(DAY, 9)
    assert within_calling_hours(local(DAY, 12), "Asia/Shanghai") == local(DAY, 12)
    assert within_calling_hours(local(DAY, 21), "Asia/Shanghai") == local(NEXT, 9)
    assert next_calling_window(local(DAY, 12), "Asia/Shanghai") == local(NEXT, 9)
    assert next_calling_window(local(DAY, 6), "Asia/Shanghai") == local(DAY, 9)


def walked_minutes(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """The definition: every business-hour window from `start` on, clipped to `end`, one day at a time."""
    total = timedelta(0)
    for window_start, window_end in calendar.windows_from(start):
        if window_start >= end:
            break
        total += min(window_end, end) - window_start
    return total.total_seconds() / 60


INSTANTS = st.datetimes(min_value=datetime(2029, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(
    start=INSTANTS,
    end=INSTANTS,
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
    opens=st.integers(0, 11),
    hours=st.integers(1, 12),
    holidays=st.sets(st.dates(min_value=date(2029, 1, 1), max_value=date(2031, 12, 31)), max_size=40),
)
def test_business_minutes_between_two_instants_are_the_windows_walked_day_by_day(start, end, zone, opens, hours, holidays):
    """The counted sum (whole days at once) equals the walk over every day's window, across DST changes
    (Lord Howe moves by half an hour) and holidays, whichever instant comes first."""
    calendar = BusinessCalendar(zone, time(opens), time(opens + hours), frozenset(holidays))
    assert business_minutes_between(start, end, calendar) == pytest.approx(walked_minutes(start, end, calendar) if end > start else 0.0)

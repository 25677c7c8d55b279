"""The one place services read the time, so timers, fee edges and calling windows are tested exactly."""

from datetime import datetime

from airside.db.columns import utcnow

# Tests set this (or patch `now`) to drive the clock instead of sleeping; None means the real time.
override: datetime | None = None


def now() -> datetime:
    return override if override is not None else utcnow()

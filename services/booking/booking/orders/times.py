"""The time rules of an order (docs/booking.md), pure so every edge can be tested exactly."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEPARTURE_MEET_LEAD = timedelta(minutes=120)
STAFF_EARLY = timedelta(minutes=15)  # the concierge waits at the meeting point 15 minutes early
CONFIRM_LEAD = timedelta(minutes=120)
CALLING_HOURS = (time(9, 0), time(21, 0))
NO_SHOW_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class OrderTimes:
    meet_at: datetime
    staff_report_at: datetime
    confirm_by: datetime
    service_end_at: datetime

    def as_values(self) -> dict[str, datetime]:
        return {
            "meet_at": self.meet_at,
            "staff_report_at": self.staff_report_at,
            "confirm_by": self.confirm_by,
            "service_end_at": self.service_end_at,
        }


def default_meet_at(direction: str, *, departure: datetime | None, arrival: datetime | None, sta: datetime | None) -> datetime | None:
    """departure: (etd or std) - 120 min; arrival: (eta or sta); transfer: sta."""
    if direction == "departure":
        return None if departure is None else departure - DEPARTURE_MEET_LEAD
    if direction == "arrival":
        return arrival
    return sta


def confirm_by(meet_at: datetime, zone: ZoneInfo) -> datetime:
    """meet_at - 120 min, moved earlier to 21:00 local when it falls outside calling hours (09:00-21:00)."""
    due = meet_at - CONFIRM_LEAD
    local = due.astimezone(zone)
    opens, closes = CALLING_HOURS
    if local.time() > closes:
        return datetime.combine(local.date(), closes, tzinfo=zone).astimezone(UTC)
    if local.time() < opens:
        return datetime.combine(local.date() - timedelta(days=1), closes, tzinfo=zone).astimezone(UTC)
    return due


def order_times(meet_at: datetime, zone: ZoneInfo, service_minutes: int) -> OrderTimes:
    """The window of an order is [staff_report_at, meet_at + the longest item duration]."""
    meet_at = meet_at.astimezone(UTC)
    return OrderTimes(
        meet_at=meet_at,
        staff_report_at=meet_at - STAFF_EARLY,
        confirm_by=confirm_by(meet_at, zone),
        service_end_at=meet_at + timedelta(minutes=service_minutes),
    )


def delay_minutes(scheduled: datetime | None, estimated: datetime | None) -> int:
    """delay_minutes = etd - std (or eta - sta); none known is no delay."""
    if scheduled is None or estimated is None:
        return 0
    return int((estimated - scheduled).total_seconds() // 60)

"""What GET /v1/concierges/{id}/schedule and GET /v1/orders/{id}/candidates answer."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from booking.concierges.models import CONCIERGE_EXAMPLE, ConciergePublic, ShiftPublic
from booking.orders.transitions import Status


class Assignment(BaseModel):
    order_id: str
    ref: str
    status: Status
    flight_no: str
    staff_report_at: datetime
    meet_at: datetime
    service_end_at: datetime


class Schedule(BaseModel):
    concierge_id: str
    date: date
    shifts: list[ShiftPublic]
    assignments: list[Assignment]


class Candidate(ConciergePublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{**CONCIERGE_EXAMPLE, "assignments_that_day": 2}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    assignments_that_day: int

"""What GET /v1/concierges/{id}/schedule and GET /v1/orders/{id}/candidates answer."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from airside.events.booking import OrderStatus
from booking.concierges.models import CONCIERGE_EXAMPLE, ConciergePublic, ShiftPublic


class Assignment(BaseModel):
    order_id: str
    ref: str
    status: OrderStatus
    flight_no: str
    staff_report_at: datetime
    meet_at: datetime
    service_end_at: datetime


class Schedule(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "concierge_id": "3c9a7d2e-1f4b-4e8a-b6d5-9e0f1a2b3c4d",
                    "date": "2026-12-24",
                    "shifts": [{"start": "06:00", "end": "14:00", "start_at": "2026-12-23T22:00:00Z", "end_at": "2026-12-24T06:00:00Z"}],
                    "assignments": [
                        {
                            "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                            "ref": "PEK-20261224-0001",
                            "status": "assigned",
                            "flight_no": "CA1501",
                            "staff_report_at": "2026-12-23T22:15:00Z",
                            "meet_at": "2026-12-23T22:30:00Z",
                            "service_end_at": "2026-12-24T00:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    concierge_id: str
    date: date
    shifts: list[ShiftPublic]
    assignments: list[Assignment]


class Candidate(ConciergePublic):
    model_config = ConfigDict(json_schema_extra={"examples": [{**CONCIERGE_EXAMPLE, "assignments_that_day": 2}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    assignments_that_day: int

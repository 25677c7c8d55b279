import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.types import IsoDateTime


def new_id() -> str:
    return str(uuid.uuid4())


class Purpose(StrEnum):
    service_followup = "service_followup"
    no_show = "no_show"


class CallbackStatus(StrEnum):
    pending = "pending"
    completed = "completed"
    failed = "failed"


class Outcome(StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    wrong_number = "wrong_number"
    declined = "declined"
    rescheduled = "rescheduled"


MAX_ATTEMPTS = 3


class Callback(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("order_id", "purpose"), Index("ix_callback_station_status_due", "station", "status", "due_at"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    order_id: str = Field(max_length=36, index=True)
    order_ref: str | None = Field(default=None, max_length=32)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    station: str = Field(max_length=3)
    purpose: str = Field(max_length=20)
    status: str = Field(default=CallbackStatus.pending.value, max_length=20)
    # When to call next (always inside calling hours) and by when the follow-up should be done.
    due_at: datetime = Field(sa_type=UtcDateTime)
    due_by: datetime = Field(sa_type=UtcDateTime)
    # When the order event happened: "within 72 h" counts from here.
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    attempts: int = 0
    outcome: str | None = Field(default=None, max_length=20)
    csat: int | None = None
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_by: str | None = Field(default=None, max_length=36)  # agent id, or "survey"
    complaint_ticket_id: str | None = Field(default=None, max_length=36)
    products: list[str] = Field(default_factory=list, sa_type=JSON)
    concierge_id: str | None = Field(default=None, max_length=36)
    concierge_name: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    version: int = 1


class CallbackAttempt(SQLModel, table=True):
    __tablename__ = "callback_attempt"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    callback_id: str = Field(max_length=36, foreign_key="callback.id", index=True)
    outcome: str = Field(max_length=20)
    csat: int | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    agent_id: str | None = Field(default=None, max_length=36)
    made_by: str = Field(max_length=200)
    at: datetime = Field(sa_type=UtcDateTime)


class CsatScore(SQLModel, table=True):
    """Every satisfaction score, from a call or the member's own survey; one of each per order."""

    __tablename__ = "csat_score"
    __table_args__ = (UniqueConstraint("order_id", "source"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    order_id: str = Field(max_length=36)
    member_id: str | None = Field(default=None, max_length=36)
    station: str = Field(max_length=3, index=True)
    csat: int
    comment: str | None = Field(default=None, sa_type=Text)
    source: str = Field(max_length=10)  # call | survey
    callback_id: str | None = Field(default=None, max_length=36)
    agent_id: str | None = Field(default=None, max_length=36)
    recorded_at: datetime = Field(sa_type=UtcDateTime, index=True)


class AttemptCreate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [{"outcome": "reached", "csat": 4, "comment": "Happy with the escort, the meeting point was hard to find"}]
        }
    )

    outcome: Outcome
    csat: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    call_back_at: IsoDateTime | None = None


class SurveyCreate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {"order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71", "csat": 5, "comment": "The concierge was on time and very helpful"}
            ]
        }
    )

    order_id: str = Field(min_length=1, max_length=36)
    csat: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class AttemptPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "f4a5b6c7-d8e9-4f0a-9b1c-2d3e4f5a6b7c",
                    "outcome": "reached",
                    "csat": 4,
                    "comment": "Happy with the escort, the meeting point was hard to find",
                    "agent_id": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d",
                    "at": "2026-12-24T07:10:00Z",
                }
            ]
        }
    )

    id: str
    outcome: Outcome
    csat: int | None
    comment: str | None
    agent_id: str | None
    at: datetime


class CallbackPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "e3f4a5b6-c7d8-4e9f-8a1b-2c3d4e5f6a7b",
                    "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                    "order_ref": "PEK-20261224-0001",
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "station": "PEK",
                    "purpose": "service_followup",
                    "status": "completed",
                    "due_at": "2026-12-24T06:00:00Z",
                    "due_by": "2026-12-27T00:00:00Z",
                    "attempts": 1,
                    "outcome": "reached",
                    "csat": 4,
                    "completed_at": "2026-12-24T07:10:00Z",
                    "complaint_ticket_id": None,
                    "products": ["DEP_ESCORT"],
                    "concierge_name": "王芳",
                    "created_at": "2026-12-24T00:05:00Z",
                    "version": 2,
                }
            ]
        }
    )

    id: str
    order_id: str
    order_ref: str | None
    member_id: str | None
    station: str
    purpose: Purpose
    status: CallbackStatus
    due_at: datetime
    due_by: datetime
    attempts: int
    outcome: Outcome | None
    csat: int | None
    completed_at: datetime | None
    complaint_ticket_id: str | None
    products: list[str]
    concierge_name: str | None
    created_at: datetime
    version: int


class CallbackSummary(BaseModel):
    id: str
    order_id: str
    purpose: Purpose
    status: CallbackStatus
    due_at: datetime


class SurveyPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                    "csat": 5,
                    "comment": "The concierge was on time and very helpful",
                    "callback_id": None,
                    "complaint_ticket_id": None,
                    "recorded_at": "2026-12-24T08:00:00Z",
                }
            ]
        }
    )

    order_id: str
    csat: int
    comment: str | None
    callback_id: str | None
    complaint_ticket_id: str | None
    recorded_at: datetime

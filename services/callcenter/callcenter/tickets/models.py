import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from airside.auth import Role
from airside.db.columns import UtcDateTime, utcnow
from airside.flight_numbers import FLIGHT_NO_PATTERN
from airside.types import IsoDate, Phone, StationCode
from callcenter.sla.models import Priority
from callcenter.tickets.transitions import Stage, TicketStatus


def new_id() -> str:
    return str(uuid.uuid4())


class TicketType(StrEnum):
    inquiry = "inquiry"
    booking_request = "booking_request"
    change_request = "change_request"
    complaint = "complaint"
    suggestion = "suggestion"
    lost_and_found = "lost_and_found"
    outbound = "outbound"


class TicketOrigin(StrEnum):
    """What opened a ticket the call center did not take by phone or form."""

    disruption = "disruption"
    confirmation_overdue = "confirmation_overdue"
    csat = "csat"


class Channel(StrEnum):
    phone = "phone"
    email = "email"
    chat = "chat"
    sms = "sms"
    web = "web"
    app = "app"
    walk_in = "walk_in"
    system = "system"


MEMBER_CHANNELS = frozenset({Channel.web, Channel.app})
# Partial-index predicates; the claim and auto-close queries repeat them so the planner can use them.
CLAIMABLE_ROWS = text("assignee IS NULL AND status IN ('new', 'open')")
RESOLVED_ROWS = text("status = 'resolved'")
Tag = str


class TicketCreate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "type": "complaint",
                    "channel": "phone",
                    "subject": "Escort did not meet us at the gate",
                    "station": "PEK",
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "flight_no": "CA1501",
                    "flight_date": "2026-12-24",
                }
            ]
        }
    )

    type: TicketType
    channel: Channel
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    station: StationCode
    member_id: str | None = Field(default=None, max_length=36)
    caller_phone: Phone | None = None
    priority: Priority | None = None
    order_id: str | None = Field(default=None, max_length=36)
    visit_id: str | None = Field(default=None, max_length=36)
    flight_no: str | None = Field(default=None, schema_extra={"pattern": FLIGHT_NO_PATTERN})
    flight_date: IsoDate | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)


class TicketUpdate(SQLModel):
    """PATCH with If-Match: priority (deadlines follow), links, tags, wording."""

    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"priority": "P2", "subject": "Wheelchair not at the gate", "tags": ["wheelchair", "PEK"]}]}
    )

    priority: Priority | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    order_id: str | None = Field(default=None, max_length=36)
    visit_id: str | None = Field(default=None, max_length=36)
    flight_no: str | None = Field(default=None, schema_extra={"pattern": FLIGHT_NO_PATTERN})
    flight_date: IsoDate | None = None
    tags: list[str] | None = Field(default=None, max_length=20)


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_queue", "station", "assignee", "status", "next_due"),
        # Migration 0003: lists by station and status (and priority), the claim queue, auto-close.
        Index("ix_ticket_station_status_priority", "station", "status", "priority", "created_at", "id"),
        Index("ix_ticket_station_status", "station", "status", "created_at", "id"),
        Index(
            "ix_ticket_claimable",
            "station",
            "next_due",
            "priority",
            "created_at",
            postgresql_where=CLAIMABLE_ROWS,
            sqlite_where=CLAIMABLE_ROWS,
        ),
        Index("ix_ticket_resolved_open", "resolved_at", postgresql_where=RESOLVED_ROWS, sqlite_where=RESOLVED_ROWS),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    number: str = Field(max_length=16, unique=True)
    type: str = Field(max_length=20, index=True)
    channel: str = Field(max_length=10)
    status: str = Field(default="new", max_length=20, index=True)
    priority: str = Field(max_length=2)
    station: str = Field(max_length=3, index=True)
    subject: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    caller_phone: str | None = Field(default=None, max_length=32)
    order_id: str | None = Field(default=None, max_length=36, index=True)
    visit_id: str | None = Field(default=None, max_length=36, index=True)
    flight_no: str | None = Field(default=None, max_length=8)
    flight_date: date | None = None
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    assignee: str | None = Field(default=None, max_length=36, index=True)
    merged_into: str | None = Field(default=None, max_length=36)
    created_by: str = Field(max_length=200)
    # Tickets raised from events: the kind, and a business key unique while it matters
    # (one open disruption ticket per order; one CSAT complaint per order).
    origin: str | None = Field(default=None, max_length=30)
    origin_key: str | None = Field(default=None, max_length=80, unique=True)
    # Complaint workflow
    complaint_stage: str | None = Field(default=None, max_length=30)
    resolution: str | None = Field(default=None, sa_type=Text)
    # The complaint's compensation in all: every approved proposal plus the one awaiting approval, if any.
    compensation_minor: int | None = None
    compensation_pending_minor: int | None = None
    compensation_proposed_by: str | None = Field(default=None, max_length=200)  # of the pending proposal: not its approver
    approver_role: str | None = Field(default=None, max_length=20)
    # SLA: business minutes used per target up to sla_anchor_at; fired thresholds as bits.
    first_response_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    first_responded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sla_anchor_at: datetime = Field(sa_type=UtcDateTime)
    first_response_elapsed: float = 0.0
    resolution_elapsed: float = 0.0
    sla_fired: int = 0
    sla_next_check_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    escalation_level: int = 0
    contacts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    version: int = 1


class TicketNumber(SQLModel, table=True):
    """Allocates the human number CC-000123 without serialising creations on one counter row."""

    __tablename__ = "ticket_number"

    seq: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    ticket_id: str = Field(max_length=36, unique=True)


class Visibility(StrEnum):
    internal = "internal"
    public = "public"


class NoteCreate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"body": "Called the station: the wheelchair is on its way to gate E12", "visibility": "public"}]}
    )

    body: str = Field(min_length=1, max_length=10_000)
    visibility: Visibility = Visibility.internal


class AuthorKind(StrEnum):
    agent = "agent"
    member = "member"
    system = "system"


class TicketNote(SQLModel, table=True):
    __tablename__ = "ticket_note"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    ticket_id: str = Field(max_length=36, foreign_key="ticket.id", index=True)
    body: str = Field(sa_type=Text)
    visibility: str = Field(max_length=10)
    author: str = Field(max_length=200)
    author_kind: str = Field(max_length=10)  # an AuthorKind
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NotePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
                    "body": "Called the station: the wheelchair is on its way to gate E12",
                    "visibility": "public",
                    "author": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d",
                    "author_kind": "agent",
                    "created_at": "2026-12-24T02:10:00Z",
                }
            ]
        }
    )

    id: str
    body: str
    visibility: Visibility
    author: str
    author_kind: AuthorKind
    created_at: datetime


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class CallOutcome(StrEnum):
    reached = "reached"
    resolved = "resolved"
    no_answer = "no_answer"
    voicemail = "voicemail"
    busy = "busy"
    transferred = "transferred"
    dropped = "dropped"


class CallCreate(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"direction": "outbound", "duration_seconds": 240, "outcome": "resolved"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    direction: Direction
    duration_seconds: int = Field(ge=0, le=86_400)
    outcome: CallOutcome


class TicketCall(SQLModel, table=True):
    __tablename__ = "ticket_call"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    ticket_id: str = Field(max_length=36, foreign_key="ticket.id", index=True)
    direction: str = Field(max_length=10)
    duration_seconds: int
    outcome: str = Field(max_length=20)
    agent_id: str | None = Field(default=None, max_length=36)
    logged_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class CallPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a",
                    "direction": "outbound",
                    "duration_seconds": 240,
                    "outcome": "resolved",
                    "agent_id": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d",
                    "created_at": "2026-12-24T02:20:00Z",
                }
            ]
        }
    )

    id: str
    direction: Direction
    duration_seconds: int
    outcome: CallOutcome
    agent_id: str | None
    created_at: datetime


class TicketHistory(SQLModel, table=True):
    __tablename__ = "ticket_history"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    ticket_id: str = Field(max_length=36, foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class HistoryEntry(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-12-24T02:05:00Z",
                    "actor": "zhang.min",
                    "action": "assign",
                    "detail": {"assignee": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d"},
                }
            ]
        }
    )

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class SlaBreached(BaseModel):
    first_response: bool
    resolution: bool


class TicketPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "2a6f9c1d-4e7b-4d2a-9f3c-8b1e0d7a6c5f",
                    "number": "T-20261224-0007",
                    "type": "complaint",
                    "channel": "phone",
                    "status": "open",
                    "priority": "P2",
                    "station": "PEK",
                    "subject": "Wheelchair not at the gate",
                    "description": "The member waited 40 minutes at gate E12.",
                    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "caller_phone": "+8613800138000",
                    "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                    "visit_id": None,
                    "flight_no": "CA1501",
                    "flight_date": "2026-12-24",
                    "tags": ["wheelchair"],
                    "assignee": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d",
                    "merged_into": None,
                    "origin": None,
                    "complaint_stage": "registered",
                    "resolution": None,
                    "compensation_minor": None,
                    "compensation_pending_minor": None,
                    "approver_role": None,
                    "first_response_due": "2026-12-24T02:30:00Z",
                    "resolution_due": "2026-12-24T10:00:00Z",
                    "first_responded_at": None,
                    "resolved_at": None,
                    "closed_at": None,
                    "escalation_level": 0,
                    "sla_breached": {"first_response": False, "resolution": False},
                    "created_at": "2026-12-24T02:00:00Z",
                    "updated_at": "2026-12-24T02:00:00Z",
                    "version": 1,
                }
            ]
        }
    )

    id: str
    number: str
    type: TicketType
    channel: Channel
    status: TicketStatus
    priority: Priority
    station: str
    subject: str
    description: str
    member_id: str | None
    caller_phone: str | None
    order_id: str | None
    visit_id: str | None
    flight_no: str | None
    flight_date: date | None
    tags: list[str]
    assignee: str | None
    merged_into: str | None
    origin: TicketOrigin | None
    complaint_stage: Stage | None
    resolution: str | None
    compensation_minor: int | None
    compensation_pending_minor: int | None
    approver_role: Role | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalation_level: int
    sla_breached: SlaBreached
    created_at: datetime
    updated_at: datetime
    version: int


class TicketSummary(BaseModel):
    id: str
    number: str
    type: TicketType
    status: TicketStatus
    priority: Priority
    station: str
    subject: str
    created_at: datetime


class StatusChange(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "pending_customer"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    status: TicketStatus


class AssignBody(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agent_id": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    agent_id: str = Field(min_length=1, max_length=36)


class MergeBody(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"into": "2a6f9c1d-4e7b-4d2a-9f3c-8b1e0d7a6c5f"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    into: str = Field(min_length=1, max_length=36)

"""Passengers turned away at the door as not entitled under their carrier's contract (docs/lounge.md)."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events import lounge as lounge_events

NOT_ENTITLED = "not_entitled"


class EntryRefusal(SQLModel, table=True):
    __tablename__ = "entry_refusal"
    # One refusal per passenger, flight and lounge: a retry at the desk is the same refusal, published once.
    __table_args__ = (
        UniqueConstraint("lounge_id", "flight_no", "flight_date", "passenger_name", name="uq_entry_refusal_passenger"),
        Index("ix_entry_refusal_lounge_refused_at", "lounge_id", "refused_at"),
    )

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    lounge_id: str = Field(max_length=40)
    station: str = Field(max_length=3)
    carrier: str = Field(max_length=3)
    contract_id: str | None = Field(default=None, max_length=64)
    flight_no: str = Field(max_length=8)
    flight_date: date
    cabin: str | None = Field(default=None, max_length=1)
    passenger_name: str = Field(max_length=100)
    reason: str = Field(default=NOT_ENTITLED, max_length=40)
    refused_at: datetime = Field(sa_type=UtcDateTime)


REFUSAL_EXAMPLE = lounge_events.EXAMPLES[lounge_events.entry_refused.type]


class EntryRefusalPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [REFUSAL_EXAMPLE]})

    id: str
    lounge_id: str
    station: str
    carrier: str
    contract_id: str | None
    flight_no: str
    flight_date: date
    cabin: str | None
    passenger_name: str
    reason: str
    refused_at: datetime

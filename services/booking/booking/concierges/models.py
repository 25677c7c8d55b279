import uuid
from datetime import date, datetime

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.types import PersonName, Phone, StationCode

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class ConciergeBase(SQLModel):
    name: PersonName = Field(max_length=100)
    station: StationCode = Field(max_length=3)
    phone: Phone = Field(max_length=32)


class ConciergeCreate(ConciergeBase):
    subject: str | None = Field(default=None, min_length=1, max_length=200, description="The identity provider's subject")


class Concierge(ConciergeBase, table=True):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    station: str = Field(max_length=3, index=True)
    phone: str = Field(max_length=32)
    subject: str = Field(max_length=200, unique=True)
    # Bumped by every assignment: on SQLite this write is what serialises racing assignments.
    assignment_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ConciergePublic(ConciergeBase):
    id: str
    subject: str
    created_at: datetime


class Shift(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    concierge_id: str = Field(max_length=36, index=True)
    shift_date: date = Field(description="The station's local date the shift starts on")
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    start_at: datetime = Field(sa_type=UtcDateTime, index=True)
    end_at: datetime = Field(sa_type=UtcDateTime)


class ShiftIn(BaseModel):
    start: str = PydanticField(pattern=HHMM, description="Local HH:MM")
    end: str = PydanticField(pattern=HHMM, description="Local HH:MM; before the start runs past midnight")


class ShiftPublic(ShiftIn):
    start_at: datetime
    end_at: datetime

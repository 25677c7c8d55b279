import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
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
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"name": "王芳", "station": "PEK", "phone": "+8613700137000", "subject": "wang.fang"}]}
    )

    subject: str | None = Field(default=None, min_length=1, max_length=200, description="The identity provider's subject")


class Concierge(ConciergeBase, table=True):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    station: str = Field(max_length=3, index=True)
    phone: str = Field(max_length=32)
    subject: str = Field(max_length=200, unique=True)
    # Bumped by every assignment: on SQLite this write is what serialises racing assignments.
    assignment_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


CONCIERGE_EXAMPLE = {
    "id": "3c9a7d2e-1f4b-4e8a-b6d5-9e0f1a2b3c4d",
    "name": "王芳",
    "station": "PEK",
    "phone": "+8613700137000",
    "subject": "wang.fang",
    "created_at": "2026-11-20T01:00:00Z",
}


class ConciergePublic(ConciergeBase):
    model_config = ConfigDict(json_schema_extra={"examples": [CONCIERGE_EXAMPLE]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"start": "06:00", "end": "14:00"}]})

    start: str = PydanticField(pattern=HHMM, description="Local HH:MM")
    end: str = PydanticField(pattern=HHMM, description="Local HH:MM; before the start runs past midnight")


class ShiftPublic(ShiftIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"start": "06:00", "end": "14:00", "start_at": "2026-12-23T22:00:00Z", "end_at": "2026-12-24T06:00:00Z"}]
        }
    )

    start_at: datetime
    end_at: datetime

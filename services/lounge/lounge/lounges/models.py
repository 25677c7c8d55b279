from datetime import time

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from airside.types import LocalTime, StationCode


class LoungeBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(ge=1, le=10_000)
    opens: time = Field(description="Local opening time")
    closes: time = Field(description="Local closing time")
    boarding_call_minutes: int = Field(ge=5, le=180, description="Boarding call this long before departure")
    day_pass_minor: int = Field(ge=0)
    guest_fee_minor: int = Field(ge=0)


class Lounge(LoungeBase, table=True):
    id: str = Field(primary_key=True, max_length=40)
    station: str = Field(max_length=3, index=True)
    version: int = 1


class LoungePublic(LoungeBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "id": "pek-t3-first",
                    "station": "PEK",
                    "name": "Air China First Class Lounge, T3",
                    "capacity": 120,
                    "opens": "06:00",
                    "closes": "23:00",
                    "boarding_call_minutes": 45,
                    "day_pass_minor": 38000,
                    "guest_fee_minor": 20000,
                    "version": 3,
                }
            ]
        }
    )

    id: str
    station: StationCode
    opens: LocalTime = Field(description="Local opening time")
    closes: LocalTime = Field(description="Local closing time")
    version: int


class LoungeUpdate(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"capacity": 120, "opens": "06:00", "closes": "23:00", "boarding_call_minutes": 45}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=100)
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    opens: LocalTime | None = None
    closes: LocalTime | None = None
    boarding_call_minutes: int | None = Field(default=None, ge=5, le=180)
    day_pass_minor: int | None = Field(default=None, ge=0)
    guest_fee_minor: int | None = Field(default=None, ge=0)

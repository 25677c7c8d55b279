"""Stations as booking announces them, with the call center's business calendar per station."""

from datetime import time

from pydantic import ConfigDict
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from airside.copies import StationCopy
from airside.types import IsoDate, LocalTime


class Station(StationCopy, table=True):
    opens: time = time(9)
    closes: time = time(22)
    # ISO dates: JSON has no date type.
    holidays: list[str] = Field(default_factory=list, sa_type=JSON)
    calendar_version: int = 1


class Calendar(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"opens": "08:00", "closes": "22:00", "holidays": ["2027-02-17", "2027-02-18"]}]}
    )

    opens: LocalTime = Field(description="Local time business hours start")
    closes: LocalTime = Field(description="Local time business hours end")
    holidays: list[IsoDate] = Field(default_factory=list, description="Local dates without business hours")


class CalendarPublic(Calendar):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station": "PEK",
                    "timezone": "Asia/Shanghai",
                    "opens": "08:00",
                    "closes": "22:00",
                    "holidays": ["2027-02-17", "2027-02-18"],
                    "version": 2,
                }
            ]
        }
    )

    station: str
    timezone: str
    version: int

"""Stations as booking announces them, with the call center's business calendar per station."""

from datetime import time

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
    opens: LocalTime = Field(description="Local time business hours start")
    closes: LocalTime = Field(description="Local time business hours end")
    holidays: list[IsoDate] = Field(default_factory=list, description="Local dates without business hours")


class CalendarPublic(Calendar):
    station: str
    timezone: str
    version: int

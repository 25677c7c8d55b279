from datetime import date, datetime

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events.common import FlightStatus

# Fields a flight status may carry; an absent one keeps what lounge holds.
TIMES = ("std", "etd", "atd", "sta", "eta", "ata")
CHANGEABLE = (*TIMES, "gate", "reason")


class FlightBase(SQLModel):
    flight_no: str = Field(primary_key=True, max_length=8)
    flight_date: date = Field(primary_key=True, description="The origin's local date")
    carrier: str = Field(max_length=2)
    number: str = Field(max_length=5)
    origin: str = Field(max_length=3, index=True)
    destination: str = Field(max_length=3)
    status: str = Field(default=FlightStatus.scheduled.value, max_length=20)
    std: datetime | None = Field(default=None, sa_type=UtcDateTime)
    etd: datetime | None = Field(default=None, sa_type=UtcDateTime)
    atd: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sta: datetime | None = Field(default=None, sa_type=UtcDateTime)
    eta: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ata: datetime | None = Field(default=None, sa_type=UtcDateTime)
    gate: str | None = Field(default=None, max_length=10)
    reason: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Flight(FlightBase, table=True):
    """Lounge's copy of a flight as published on airside.flight.status."""

    @property
    def departure(self) -> datetime | None:
        return self.etd or self.std

    @property
    def gone(self) -> bool:
        return self.atd is not None or self.status in (FlightStatus.departed, FlightStatus.arrived, FlightStatus.cancelled)


FLIGHT_EXAMPLE = {
    "flight_no": "CA1501",
    "flight_date": "2026-12-24",
    "carrier": "CA",
    "number": "1501",
    "origin": "PEK",
    "destination": "KMG",
    "status": "delayed",
    "std": "2026-12-24T00:30:00Z",
    "etd": "2026-12-24T01:45:00Z",
    "atd": None,
    "sta": "2026-12-24T04:10:00Z",
    "eta": "2026-12-24T05:20:00Z",
    "ata": None,
    "gate": "E12",
    "reason": "Late inbound aircraft",
    "updated_at": "2026-12-23T23:10:00Z",
}


class FlightPublic(FlightBase):
    model_config = ConfigDict(json_schema_extra={"examples": [FLIGHT_EXAMPLE]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    status: FlightStatus


def normal_flight_no(carrier: str, number: str) -> str:
    """`CA` + `0834` → `CA834`: the number without leading zeros, its suffix kept."""
    digits = number.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return f"{carrier}{int(digits)}{number[len(digits) :]}"

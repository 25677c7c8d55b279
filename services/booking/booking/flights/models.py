from datetime import date, datetime

from pydantic import ConfigDict, field_validator
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.events import flights as flight_events
from airside.events.common import FlightInfo, FlightStatus
from airside.types import IsoDateTime

AIRPORT_PATTERN = r"^[A-Z]{3}$"


class FlightTimes(SQLModel):
    std: IsoDateTime | None = None
    sta: IsoDateTime | None = None
    etd: IsoDateTime | None = None
    eta: IsoDateTime | None = None
    atd: IsoDateTime | None = None
    ata: IsoDateTime | None = None
    gate: str | None = Field(default=None, max_length=10)


class FlightUpsert(FlightTimes):
    """The schedule entered by staff; absent fields keep what booking holds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "origin": "PEK",
                    "destination": "KMG",
                    "std": "2026-12-24T08:30:00+08:00",
                    "sta": "2026-12-24T12:10:00+08:00",
                    "gate": "E12",
                }
            ]
        }
    )

    origin: str = Field(schema_extra={"pattern": AIRPORT_PATTERN})
    destination: str = Field(schema_extra={"pattern": AIRPORT_PATTERN})
    status: FlightStatus | None = None


class FlightStatusUpdate(FlightTimes):
    """A status entered by ops by hand; absent fields mean unchanged."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "delayed", "etd": "2026-12-24T09:45:00+08:00", "reason": "Late inbound aircraft"}]}
    )

    status: FlightStatus
    reason: str | None = Field(default=None, max_length=500)
    updated_at: IsoDateTime | None = Field(default=None, description="When the status was known; now when absent")

    @field_validator("updated_at")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        """The rule every consumer of flight status applies: a status stamped more than a day ahead is refused."""
        return value if value is None else flight_events.checked_updated_at(value)


class Flight(SQLModel, table=True):
    flight_no: str = Field(primary_key=True, max_length=8)
    flight_date: date = Field(primary_key=True, description="The origin's local date")
    carrier: str = Field(max_length=2)
    number: str = Field(max_length=5)
    origin: str = Field(max_length=3)
    destination: str = Field(max_length=3)
    std: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sta: datetime | None = Field(default=None, sa_type=UtcDateTime)
    etd: datetime | None = Field(default=None, sa_type=UtcDateTime)
    eta: datetime | None = Field(default=None, sa_type=UtcDateTime)
    atd: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ata: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str = Field(default=FlightStatus.scheduled.value, max_length=20)
    gate: str | None = Field(default=None, max_length=10)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def departure(self) -> datetime | None:
        return self.etd or self.std

    @property
    def arrival(self) -> datetime | None:
        return self.eta or self.sta

    @property
    def cancelled(self) -> bool:
        return self.status == FlightStatus.cancelled.value

    def info(self) -> FlightInfo:
        return FlightInfo.model_validate(self, from_attributes=True)


FLIGHT_EXAMPLE = {
    "flight_no": "CA1501",
    "carrier": "CA",
    "number": "1501",
    "flight_date": "2026-12-24",
    "origin": "PEK",
    "destination": "KMG",
    "std": "2026-12-24T00:30:00Z",
    "sta": "2026-12-24T04:10:00Z",
    "status": "scheduled",
    "gate": "E12",
}


class FlightPublic(FlightInfo):
    model_config = ConfigDict(json_schema_extra={"examples": [FLIGHT_EXAMPLE]})

from zoneinfo import available_timezones

from pydantic import ConfigDict, field_validator
from sqlmodel import Field, SQLModel


class StationBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Asia/Shanghai")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown IANA time zone {value!r}")
        return value


class StationUpdate(StationBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Beijing Capital", "timezone": "Asia/Shanghai"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's


class Station(StationBase, table=True):
    code: str = Field(primary_key=True, min_length=3, max_length=3)
    # One more at every change: the copies keep the newest (docs/events.md rule 4).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class StationPublic(StationBase):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "PEK", "name": "Beijing Capital", "timezone": "Asia/Shanghai"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    code: str

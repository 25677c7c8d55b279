from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


# Business minutes (docs/callcenter.md): first response, resolution. Seeded once; ops may change them.
SLA_POLICIES = {Priority.P1: (15, 240), Priority.P2: (30, 480), Priority.P3: (120, 1440), Priority.P4: (480, 4320)}


class SlaPolicyBase(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"first_response_minutes": 30, "resolution_minutes": 480}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    first_response_minutes: int = Field(ge=1, le=100_000, description="Business minutes to the first response")
    resolution_minutes: int = Field(ge=1, le=1_000_000, description="Business minutes to resolution")


class SlaPolicy(SlaPolicyBase, table=True):
    __tablename__ = "sla_policy"

    priority: Priority = Field(primary_key=True)
    version: int = 1


class SlaPolicyPublic(SlaPolicyBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"priority": "P2", "first_response_minutes": 30, "resolution_minutes": 480, "version": 1}]}
    )

    priority: Priority
    version: int

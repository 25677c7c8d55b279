import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.types import PersonName, StationCode


class AgentRole(StrEnum):
    agent = "agent"
    team_lead = "team_lead"
    supervisor = "supervisor"


class AgentBase(SQLModel):
    name: PersonName = Field(max_length=100)
    station: StationCode = Field(max_length=3)
    role: AgentRole
    team: str | None = Field(default=None, max_length=50)


class AgentCreate(AgentBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"name": "张敏", "station": "PEK", "role": "agent", "team": "Team A", "subject": "zhang.min"}]}
    )

    subject: str | None = Field(default=None, min_length=1, max_length=200, description="Identity provider subject; defaults to the id")


class Agent(SQLModel, table=True):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    station: str = Field(max_length=3, index=True)
    role: str = Field(max_length=20)
    team: str | None = Field(default=None, max_length=50)
    subject: str = Field(max_length=200, unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AgentPublic(AgentBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "id": "7d1e4b2a-9c3f-4a5e-8b6d-0f1e2a3b4c5d",
                    "name": "张敏",
                    "station": "PEK",
                    "role": "agent",
                    "team": "Team A",
                    "subject": "zhang.min",
                    "active": True,
                    "created_at": "2026-11-20T01:00:00Z",
                }
            ]
        }
    )

    id: str
    subject: str
    active: bool
    created_at: datetime

import uuid
from datetime import datetime

from pydantic import ConfigDict, EmailStr
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.events.booking import MemberSnapshot, MemberStatus
from airside.events.common import Tier
from airside.types import PersonName, Phone


class MemberBase(SQLModel):
    name: PersonName = Field(max_length=100, description="Chinese or Latin")
    phone: Phone = Field(max_length=32, description="E.164, e.g. +8613800138000")
    tier: Tier
    email: EmailStr | None = Field(default=None, max_length=200)


class MemberCreate(MemberBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"name": "Li Wei", "phone": "+8613800138000", "tier": "gold", "card_no": "CA-0001"}]}
    )

    card_no: str | None = Field(default=None, min_length=4, max_length=32, schema_extra={"pattern": r"^[A-Z0-9-]+$"})
    # Staff must state it; a carrier enrolling its passenger may leave it out: standard, the only tier it may give (docs/carriers.md).
    tier: Tier | None = Field(default=None, description="Required from staff; a carrier's passengers are standard")


class MemberUpdate(SQLModel):
    """Contact changes by the member or staff; the tier only by staff."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+8613900139000", "email": "li.wei@example.com"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    name: PersonName | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    tier: Tier | None = None


class Member(MemberBase, table=True):
    __table_args__ = (Index("ix_member_created", "created_at", "id"),)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    card_no: str = Field(max_length=32, unique=True)
    phone: str = Field(max_length=32, index=True)
    email: str | None = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=20)
    enrolled_by_carrier: str | None = Field(default=None, max_length=2, description="The carrier that enrolled its passenger, if one did")
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def snapshot(self) -> MemberSnapshot:
        return MemberSnapshot.model_validate(self, from_attributes=True)


class MemberPublic(MemberBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "card_no": "CA-0001",
                    "name": "Li Wei",
                    "phone": "+8613800138000",
                    "tier": "gold",
                    "email": "li.wei@example.com",
                    "status": "active",
                    "version": 1,
                    "created_at": "2026-12-01T02:15:00Z",
                    "updated_at": "2026-12-01T02:15:00Z",
                }
            ]
        }
    )

    id: str
    card_no: str
    status: MemberStatus
    enrolled_by_carrier: str | None = Field(default=None, description="The carrier that enrolled its passenger (docs/carriers.md)")
    version: int
    created_at: datetime
    updated_at: datetime

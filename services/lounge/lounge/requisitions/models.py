from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime


class RequisitionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    received = "received"
    rejected = "rejected"


class Requisition(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    lounge_id: str = Field(max_length=40, index=True)
    station: str = Field(max_length=3)
    status: str = Field(max_length=20, index=True)
    # The lounge id while this is the lounge's open draft, NULL after: one draft per lounge.
    draft_key: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=500)
    received_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1


class RequisitionLine(SQLModel, table=True):
    __tablename__ = "requisition_line"

    requisition_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(primary_key=True, max_length=40)
    qty: int = Field(ge=1)
    received_qty: int = Field(default=0, ge=0)


class Reject(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Water is still in stock for two weeks"}]})

    reason: str = Field(min_length=1, max_length=500)


class RequisitionLinePublic(BaseModel):
    sku: str
    qty: int
    received_qty: int


class RequisitionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0d1c2b3a-4f5e-4d6c-9b7a-8f9e0d1c2b3a",
                    "lounge_id": "pek-t3-first",
                    "station": "PEK",
                    "status": "submitted",
                    "lines": [{"sku": "WATER", "qty": 96, "received_qty": 0}],
                    "created_at": "2026-12-22T08:00:00Z",
                    "submitted_at": "2026-12-22T08:05:00Z",
                    "decided_at": None,
                    "decided_by": None,
                    "reason": None,
                    "received_at": None,
                    "version": 2,
                }
            ]
        }
    )

    id: str
    lounge_id: str
    station: str
    status: RequisitionStatus
    lines: list[RequisitionLinePublic]
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    received_at: datetime | None
    version: int

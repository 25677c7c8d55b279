"""What the call center keeps of booking's orders and lounge's visits: enough to check ownership and report."""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime


class OrderCopy(SQLModel, table=True):
    __tablename__ = "order_copy"

    id: str = Field(primary_key=True, max_length=36)
    ref: str = Field(max_length=32)
    member_id: str = Field(max_length=36, index=True)
    station: str = Field(max_length=3)
    status: str = Field(max_length=20)
    products: list[str] = Field(default_factory=list, sa_type=JSON)
    concierge_id: str | None = Field(default=None, max_length=36)
    concierge_name: str | None = Field(default=None, max_length=100)
    source_ticket_id: str | None = Field(default=None, max_length=36)
    flight_no: str = Field(max_length=8)
    version: int


class VisitCopy(SQLModel, table=True):
    __tablename__ = "visit_copy"

    id: str = Field(primary_key=True, max_length=36)
    station: str = Field(max_length=3)
    lounge_id: str = Field(max_length=36)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    order_id: str | None = Field(default=None, max_length=36)
    status: str = Field(max_length=20)
    checked_in_at: datetime = Field(sa_type=UtcDateTime)
    version: int

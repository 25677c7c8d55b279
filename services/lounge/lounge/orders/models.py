from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events.booking import OrderStatus

LOUNGE_PRODUCT = "LOUNGE"


class ExpectedStatus(StrEnum):
    expected = "expected"
    dropped = "dropped"  # the order was cancelled, or its LOUNGE item removed
    no_lounge = "no_lounge"  # never had one: kept only to order late snapshots, never listed


class ExpectedVisit(SQLModel, table=True):
    """An order with a LOUNGE item, as booking's order events announce it."""

    __tablename__ = "expected_visit"

    order_id: str = Field(primary_key=True, max_length=36)
    order_ref: str = Field(max_length=40)
    member_id: str = Field(max_length=36, index=True)
    station: str = Field(max_length=3)
    flight_no: str = Field(max_length=8)
    flight_date: date
    passengers: int = Field(ge=1)
    passenger_names: list[str] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(max_length=20)  # an ExpectedStatus
    order_status: str = Field(max_length=20)
    order_version: int
    updated_at: datetime = Field(sa_type=UtcDateTime)

    @property
    def expected(self) -> bool:
        return self.status == ExpectedStatus.expected


EXPECTED_VISIT_EXAMPLE = {
    "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
    "order_ref": "PEK-20261224-0001",
    "member_id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
    "station": "PEK",
    "flight_no": "CA1501",
    "flight_date": "2026-12-24",
    "passengers": 1,
    "status": "expected",
    "order_status": "confirmed",
    "order_version": 2,
}


class ExpectedVisitPublic(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXPECTED_VISIT_EXAMPLE]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    order_id: str
    order_ref: str
    member_id: str
    station: str
    flight_no: str
    flight_date: date
    passengers: int
    status: ExpectedStatus
    order_status: OrderStatus
    order_version: int

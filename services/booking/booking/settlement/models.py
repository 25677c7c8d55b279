"""Monthly settlement statements per carrier, station and the station's local month (docs/carriers.md "Statements").

A line is written once and never changed: a dispute is a row of its own beside the line, a credit is a new
negative line. An issued statement is frozen; what arrives for its month afterwards goes on a supplementary
statement of the same month (the next sequence)."""

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.events.carriers import ServiceTotal
from airside.types import IsoDate

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
LOUNGE_SERVICE, CREDIT_SERVICE, LATE_FEE_SERVICE = "LOUNGE", "CREDIT", "LATE_FEE"


def new_statement_id() -> str:
    return "stm_" + secrets.token_hex(8)


class StatementStatus(StrEnum):
    draft = "draft"
    issued = "issued"
    settled = "settled"


class Statement(SQLModel, table=True):
    __tablename__ = "settlement_statement"
    __table_args__ = (
        UniqueConstraint("carrier", "station", "month", "sequence", name="uq_settlement_statement_month"),
        Index("ix_settlement_statement_status", "status", "month"),
    )

    id: str = Field(default_factory=new_statement_id, primary_key=True, max_length=24)
    carrier: str = Field(max_length=2)
    station: str = Field(max_length=3)
    month: str = Field(max_length=7, description="The station's local month, YYYY-MM")
    sequence: int = Field(default=1, description="1, then 2, 3 for what arrives after the month's statement was issued")
    currency: str = Field(max_length=3)
    status: str = Field(default=StatementStatus.draft.value, max_length=20)
    number: str | None = Field(default=None, max_length=30, unique=True)
    payment_days: int = 30
    issued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    issued_by: str | None = Field(default=None, max_length=200)
    due_on: date | None = None
    total_minor: int | None = Field(default=None, sa_type=BigInteger)  # frozen at issue
    totals: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)  # frozen at issue
    line_count: int | None = None
    paid_minor: int = Field(default=0, sa_type=BigInteger)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StatementLine(SQLModel, table=True):
    __tablename__ = "settlement_line"
    __table_args__ = (Index("ix_settlement_line_statement", "statement_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    source: str = Field(
        max_length=80, unique=True, description="visit:<id>, order:<id>:<product> or credit:<id>: a replay never doubles a line"
    )
    statement_id: str = Field(max_length=24)
    service: str = Field(max_length=30, description="LOUNGE, a meet-and-assist product code, LATE_FEE or CREDIT")
    day: date = Field(description="The station's local day of the visit or the service")
    passenger_name: str | None = Field(default=None, max_length=100)
    flight_no: str | None = Field(default=None, max_length=8)
    flight_date: date | None = None
    cabin: str | None = Field(default=None, max_length=1)
    reference: str | None = Field(default=None, max_length=40, description="The visit's or the order's id")
    quantity: int = 1
    rate_minor: int = Field(sa_type=BigInteger)
    amount_minor: int = Field(sa_type=BigInteger)
    contract_id: str | None = Field(default=None, max_length=24)
    contract_version: int | None = None
    credit_for: int | None = Field(default=None, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class LineDispute(SQLModel, table=True):
    """A carrier's or a manager's flag on a line, beside it: the line itself stays as billed."""

    __tablename__ = "settlement_dispute"

    line_id: int = Field(primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    statement_id: str = Field(max_length=24, index=True)
    reason: str = Field(max_length=500)
    disputed_by: str = Field(max_length=200)
    disputed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Refusal(SQLModel, table=True):
    """A passenger the lounge turned away as not entitled, listed on the carrier's statement of the month."""

    __tablename__ = "settlement_refusal"
    __table_args__ = (Index("ix_settlement_refusal_month", "carrier", "station", "month", "refused_at"),)

    id: str = Field(primary_key=True, max_length=64)
    carrier: str = Field(max_length=2)
    station: str = Field(max_length=3)
    month: str = Field(max_length=7)
    lounge_id: str = Field(max_length=36)
    flight_no: str = Field(max_length=8)
    flight_date: date
    cabin: str | None = Field(default=None, max_length=1)
    passenger_name: str = Field(max_length=100)
    reason: str = Field(max_length=40)
    refused_at: datetime = Field(sa_type=UtcDateTime)


class Payment(SQLModel, table=True):
    __tablename__ = "settlement_payment"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    statement_id: str = Field(max_length=24, index=True)
    amount_minor: int = Field(sa_type=BigInteger)
    reference: str | None = Field(default=None, max_length=100)
    paid_on: date
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- request bodies ---------------------------------------------------------------------------


class DisputeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Passenger flew in economy; not covered"}]})

    reason: str = PydanticField(min_length=1, max_length=500)


class CreditIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"line_id": 41, "amount_minor": 18000, "note": "Agreed with CA: not covered"}]}
    )

    line_id: int = PydanticField(ge=1)
    amount_minor: int = PydanticField(ge=1, le=10**12, description="What is credited, a positive amount; the line written is its negative")
    note: str = PydanticField(min_length=1, max_length=500)


class IssueIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"early": True}]})

    early: bool = PydanticField(
        default=False, description="Issue before the station's month has ended; what arrives later goes on a supplementary statement"
    )


class PaymentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount_minor": 3815000, "paid_on": "2027-01-20", "reference": "CA-REM-88213"}]}
    )

    amount_minor: int = PydanticField(ge=1, le=10**12)
    paid_on: IsoDate  # ISO 8601 text only, as every date (docs/http.md, Dates and date-times)
    reference: str | None = PydanticField(default=None, max_length=100)


# --- responses --------------------------------------------------------------------------------


LINE_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "statement_id": "stm_2b8e4c1a9f3d7e60",
    "service": "LOUNGE",
    "day": "2026-12-24",
    "passenger_name": "ZHANG/WEI",
    "flight_no": "CA1501",
    "flight_date": "2026-12-24",
    "cabin": "J",
    "reference": "5b1e8d3c-7a2f-4c9e-8d6b-0e4f2a9c1b75",
    "quantity": 2,
    "rate_minor": 18000,
    "amount_minor": 36000,
    "contract_id": "ctr_6f3b2a9d1c7e4f08",
    "contract_version": 1,
    "disputed": True,
    "dispute_reason": "The guest was not ours",
}


class LinePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LINE_EXAMPLE]})

    id: int
    statement_id: str
    service: str
    day: date
    passenger_name: str | None = None
    flight_no: str | None = None
    flight_date: date | None = None
    cabin: str | None = None
    reference: str | None = None
    quantity: int
    rate_minor: int
    amount_minor: int
    contract_id: str | None = None
    contract_version: int | None = None
    credit_for: int | None = None
    note: str | None = None
    disputed: bool = False
    dispute_reason: str | None = None


class RefusalPublic(BaseModel):
    id: str
    lounge_id: str
    flight_no: str
    flight_date: date
    cabin: str | None = None
    passenger_name: str
    reason: str
    refused_at: datetime


SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "stm_2b8e4c1a9f3d7e60",
    "carrier": "CA",
    "station": "PEK",
    "month": "2026-12",
    "sequence": 1,
    "currency": "CNY",
    "status": "draft",
    "total_minor": 18000,
    "paid_minor": 0,
    "version": 3,
}


class StatementSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})

    id: str
    carrier: str
    station: str
    month: str
    sequence: int
    currency: str
    status: StatementStatus
    number: str | None = None
    issued_at: datetime | None = None
    due_on: date | None = None
    total_minor: int
    paid_minor: int
    settled_at: datetime | None = None
    version: int


class StatementPublic(StatementSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **SUMMARY_EXAMPLE,
                    "status": "issued",
                    "number": "PEK-CA-2026-12",
                    "issued_at": "2026-12-31T16:05:00Z",
                    "due_on": "2027-01-31",
                    "total_minor": 36000,
                    "version": 2,
                    "totals": [{"service": "LOUNGE", "quantity": 2, "amount_minor": 36000}],
                    "line_count": 1,
                    "lines": [LINE_EXAMPLE],
                    "lines_next_cursor": None,
                    "refusals": [
                        {
                            "id": "e1c4b7a2-9d3f-4e8a-b6c0-2f5a8d1e7c39",
                            "lounge_id": "PEK-T3-F",
                            "flight_no": "CA1501",
                            "flight_date": "2026-12-24",
                            "cabin": "Y",
                            "passenger_name": "LIN/TAO",
                            "reason": "not_entitled",
                            "refused_at": "2026-12-23T22:40:00Z",
                        }
                    ],
                }
            ]
        }
    )

    totals: list[ServiceTotal]
    line_count: int
    lines: list[LinePublic] = PydanticField(description="A page of the lines, oldest first; lines_next_cursor reads on")
    lines_next_cursor: str | None = None
    refusals: list[RefusalPublic]

"""The lounge's copies of booking's carriers and their contracts (docs/lounge.md "Carrier-paid entitlement").

Each copy holds the snapshot as booking last announced it, newest version wins (airside.copies.keep_newest).
A contract's terms are kept whole, as the event carries them: every term ever in force, oldest first.
"""

from datetime import date
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


class Carrier(SQLModel, table=True):
    __tablename__ = "carrier_copy"

    designator: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=200)
    version: int


class Contract(SQLModel, table=True):
    __tablename__ = "contract_copy"
    __table_args__ = (Index("ix_contract_copy_carrier_station", "carrier", "station"),)

    id: str = Field(primary_key=True, max_length=64)
    carrier: str = Field(max_length=3)
    station: str = Field(max_length=3)
    currency: str = Field(max_length=3)
    valid_from: date  # the station's local days, inclusive
    valid_to: date | None = None
    status: str = Field(max_length=20)  # active | ended, kept as a string (a tolerant reader)
    version: int
    terms: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # ContractTerm, as JSON

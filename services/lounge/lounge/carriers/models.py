"""The lounge's copies of booking's carriers and their contracts (docs/lounge.md "Carrier-paid entitlement").

Each copy holds the snapshot as booking last announced it, newest version wins (airside.copies.keep_newest).
A contract's terms are kept whole, as the event carries them: every term ever in force, oldest first.
"""

from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from airside.copies import CarrierCopy, ContractCopy


class Carrier(CarrierCopy, table=True):
    pass


class Contract(ContractCopy, table=True):
    __table_args__ = (Index("ix_contract_copy_carrier_station", "carrier", "station"),)

    currency: str = Field(max_length=3)
    terms: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # ContractTerm, as JSON

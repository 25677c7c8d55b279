"""The call center's copies of booking's carriers and their contracts (docs/callcenter.md "Carriers").

What an agent answering an airline's call needs: who the carrier is and whom to write about billing, and
which of its contracts cover which station, on which days, in which state (airside.copies.ContractCopy).
Rates and terms stay with booking and the lounge. Each copy holds the snapshot as booking last announced
it, newest version wins (airside.copies.carrier_copy_handlers).
"""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Index
from sqlmodel import Field

from airside.copies import CarrierCopy, ContractCopy
from airside.events.carriers import BillingContact, ContractStatus
from airside.types import OpenEnum


class Carrier(CarrierCopy, table=True):
    billing_contact: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))  # BillingContact, as JSON


class Contract(ContractCopy, table=True):
    __table_args__ = (Index("ix_contract_copy_carrier_station", "carrier", "station"),)


class ContractSummary(BaseModel):
    """A contract as the call center knows it: where and on which local days it covers the carrier's passengers."""

    id: str
    station: str
    valid_from: date
    valid_to: date | None
    status: Annotated[ContractStatus | str, OpenEnum(ContractStatus)]
    version: int


class CarrierDetail(BaseModel):
    """A carrier as booking last announced it, with its contracts at the caller's stations."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "designator": "CA",
                    "name": "Air China",
                    "billing_contact": {"name": "Interline accounts", "email": "interline@airchina.example", "phone": "+861061620000"},
                    "version": 2,
                    "contracts": [
                        {
                            "id": "ctr_0f3a9b2c4d5e6f70",
                            "station": "PEK",
                            "valid_from": "2026-12-01",
                            "valid_to": None,
                            "status": "active",
                            "version": 1,
                        }
                    ],
                }
            ]
        }
    )

    designator: str
    name: str
    billing_contact: BillingContact | None
    version: int
    contracts: list[ContractSummary]

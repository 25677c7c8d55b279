"""The call center's copies of booking's carriers and their contracts (docs/callcenter.md "Carriers").

What an agent answering an airline's call needs: who the carrier is and whom to write about billing, and
which of its contracts cover which station, on which days, in which state (airside.copies.ContractCopy).
Rates and terms stay with booking and the lounge. Each copy holds the snapshot as booking last announced
it, newest version wins (airside.copies.carrier_copy_handlers).
"""

from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from airside.copies import CarrierCopy, ContractCopy


class Carrier(CarrierCopy, table=True):
    billing_contact: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))  # BillingContact, as JSON


class Contract(ContractCopy, table=True):
    __table_args__ = (Index("ix_contract_copy_carrier_station", "carrier", "station"),)

"""Airlines booking serves under contract, their contracts per station and the contracts' terms (docs/carriers.md).

A contract's rates live in its terms: a rate change adds a term from an instant on and never edits one,
so a visit or an order priced under a term keeps its price whatever follows."""

import re
import secrets
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from airside.auth import CARRIER_PATTERN
from airside.db.columns import UtcDateTime, utcnow
from airside.events.carriers import CarrierSnapshot, ContractSnapshot, ContractStatus
from airside.types import IsoDate, IsoDateTime, PersonName, Phone, StationCode

PRODUCT_CODE = r"^[A-Z][A-Z0-9_]{1,29}$"
CABIN_CODE = r"^[A-Z]$"  # a BCBP compartment code
CURRENCY_CODE = r"^[A-Z]{3}$"
MAX_RATE_MINOR = 100_000_000


def new_contract_id() -> str:
    return "ctr_" + secrets.token_hex(8)


class Carrier(SQLModel, table=True):
    designator: str = Field(primary_key=True, max_length=2)
    name: str = Field(max_length=100)
    billing_contact: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def snapshot(self) -> CarrierSnapshot:
        return CarrierSnapshot.model_validate(
            {"designator": self.designator, "name": self.name, "billing_contact": self.billing_contact, "version": self.version}
        )


class Contract(SQLModel, table=True):
    __tablename__ = "carrier_contract"
    __table_args__ = (Index("ix_carrier_contract_carrier_station", "carrier", "station", "valid_from"),)

    id: str = Field(default_factory=new_contract_id, primary_key=True, max_length=24)
    carrier: str = Field(max_length=2)
    station: str = Field(max_length=3)
    currency: str = Field(max_length=3)
    valid_from: date
    valid_to: date | None = None
    status: str = Field(default="active", max_length=20)
    frequency: str = Field(default="monthly", max_length=20)
    payment_days: int
    version: int = 1
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ContractTerm(SQLModel, table=True):
    """One term of a contract: written once, never changed."""

    __tablename__ = "carrier_contract_term"

    contract_id: str = Field(primary_key=True, max_length=24)
    version: int = Field(primary_key=True)
    effective_from: datetime = Field(sa_type=UtcDateTime)
    lounge: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    assist: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- request bodies ---------------------------------------------------------------------------


class BillingContactIn(BaseModel):
    name: PersonName | None = None
    email: EmailStr | None = PydanticField(default=None, max_length=200)
    phone: Phone | None = None


CARRIER_EXAMPLE: dict[str, Any] = {
    "designator": "CA",
    "name": "Air China",
    "billing_contact": {"name": "Interline accounts", "email": "interline@airchina.example"},
}


class CarrierCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [CARRIER_EXAMPLE]})

    designator: str = PydanticField(pattern=CARRIER_PATTERN, description="The IATA designator: 2 letters or digits, upper case")
    name: str = PydanticField(min_length=1, max_length=100)
    billing_contact: BillingContactIn | None = None


class CarrierUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"billing_contact": {"email": "settlement@airchina.example"}}]})

    name: str | None = PydanticField(default=None, min_length=1, max_length=100)
    billing_contact: BillingContactIn | None = None


class LoungeCoverIn(BaseModel):
    cabins: list[str] = PydanticField(default_factory=list, max_length=26, description="BCBP compartment codes, e.g. F, A, J, C, D")
    ff_tiers: list[str] = PydanticField(default_factory=list, max_length=20, description="The carrier's frequent-flyer tiers")
    rate_minor: int = PydanticField(ge=0, le=MAX_RATE_MINOR, description="Per carrier-paid passenger, in the contract's currency")
    guests_allowed: int = PydanticField(default=0, ge=0, le=9)
    complimentary_menu: bool = False

    @model_validator(mode="after")
    def _covers_someone(self) -> "LoungeCoverIn":
        if not self.cabins and not self.ff_tiers:
            raise ValueError("name the cabins or the frequent-flyer tiers the lounge access covers")
        if any(not re.fullmatch(CABIN_CODE, cabin) for cabin in self.cabins):
            raise ValueError("a cabin is one upper-case letter (a BCBP compartment code)")
        if any(not 1 <= len(tier.strip()) <= 30 for tier in self.ff_tiers):
            raise ValueError("a frequent-flyer tier is 1 to 30 characters")
        if len(set(self.cabins)) != len(self.cabins) or len(set(self.ff_tiers)) != len(self.ff_tiers):
            raise ValueError("name each cabin and tier once")
        return self


class AssistRateIn(BaseModel):
    product_code: str = PydanticField(pattern=PRODUCT_CODE)
    rate_minor: int = PydanticField(ge=0, le=MAX_RATE_MINOR)


class Rates(BaseModel):
    """What a term covers: lounge access and/or meet-and-assist products."""

    lounge: LoungeCoverIn | None = None
    assist: list[AssistRateIn] = PydanticField(default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _covers_something(self) -> "Rates":
        if self.lounge is None and not self.assist:
            raise ValueError("a contract covers lounge access, meet-and-assist products or both")
        codes = [rate.product_code for rate in self.assist]
        if len(set(codes)) != len(codes):
            raise ValueError("name each assist product once")
        return self


class SettlementIn(BaseModel):
    frequency: Literal["monthly"] = "monthly"
    payment_days: int = PydanticField(ge=0, le=365)


class ContractCreate(Rates):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station": "PEK",
                    "currency": "CNY",
                    "valid_from": "2026-12-01",
                    "settlement": {"frequency": "monthly", "payment_days": 30},
                    "lounge": {"cabins": ["F", "A", "J", "C", "D"], "rate_minor": 18000, "guests_allowed": 1, "complimentary_menu": True},
                    "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
                }
            ]
        }
    )

    station: StationCode
    currency: str = PydanticField(default="CNY", pattern=CURRENCY_CODE)
    valid_from: IsoDate = PydanticField(description="The station's local day the contract starts, inclusive")
    valid_to: IsoDate | None = PydanticField(default=None, description="The station's local last day, inclusive; none: open-ended")
    settlement: SettlementIn

    @model_validator(mode="after")
    def _period(self) -> "ContractCreate":
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class TermCreate(Rates):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "effective_from": "2026-12-15T16:00:00Z",
                    "lounge": {"cabins": ["F", "A", "J", "C", "D"], "rate_minor": 20000, "guests_allowed": 1, "complimentary_menu": True},
                    "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
                }
            ]
        }
    )

    effective_from: IsoDateTime | None = PydanticField(
        default=None, description="From when the new rates apply; now when absent, never in the past"
    )


class ContractEnd(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"valid_to": "2027-03-31"}, {}]})

    valid_to: IsoDate | None = PydanticField(
        default=None, description="The last local day it applies, today or later; absent: it ends now and applies no more"
    )


# --- responses --------------------------------------------------------------------------------


class CarrierPublic(CarrierSnapshot):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**CARRIER_EXAMPLE, "version": 1, "created_at": "2026-11-28T02:00:00Z", "updated_at": "2026-11-28T02:00:00Z"}]
        }
    )

    created_at: datetime
    updated_at: datetime


class ContractPublic(ContractSnapshot):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ctr_6f3b2a9d1c7e4f08",
                    "carrier": "CA",
                    "station": "PEK",
                    "currency": "CNY",
                    "valid_from": "2026-12-01",
                    "status": "active",
                    "settlement": {"frequency": "monthly", "payment_days": 30},
                    "version": 1,
                    "terms": [
                        {
                            "version": 1,
                            "effective_from": "2026-11-30T16:00:00Z",
                            "lounge": {
                                "cabins": ["J", "C", "D"],
                                "ff_tiers": [],
                                "rate_minor": 18000,
                                "guests_allowed": 1,
                                "complimentary_menu": True,
                            },
                            "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
                        }
                    ],
                    "created_at": "2026-11-28T02:00:00Z",
                }
            ]
        }
    )

    # The event keeps a string (a tolerant reader); the API names its values.
    status: ContractStatus
    created_at: datetime


class PayerIn(BaseModel):
    """Who pays a partner order: the carrier, at its contract's assist rates (docs/carriers.md "Partner orders")."""

    carrier: str = PydanticField(pattern=CARRIER_PATTERN, description="The IATA designator of the paying carrier")

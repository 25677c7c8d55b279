from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from airside.events.lounge import SoldItem
from lounge.menu.models import Category

# Bill lines that are not menu items: the day pass and guest fees charged at check-in.
EntryCategory = Literal["entry"]
ENTRY_CATEGORY: EntryCategory = "entry"
# What a bill line is: a menu item's category, or the entry.
LineCategory = Category | EntryCategory
DAY_PASS_SKU = "DAY_PASS"
GUEST_FEE_SKU = "GUEST_FEE"


@dataclass(frozen=True)
class Charge:
    """A line the door puts on a new bill (the day pass, guest fees)."""

    sku: str
    name: str
    qty: int
    unit_price_minor: int


class BillStatus(StrEnum):
    open = "open"
    settled = "settled"
    unsettled = "unsettled"  # a walk-in who left with the flight without paying


class PaymentMethod(StrEnum):
    cash = "cash"
    card = "card"
    member_account = "member_account"


class Bill(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    visit_id: str = Field(max_length=36, unique=True)
    lounge_id: str = Field(max_length=40, index=True)
    status: str = Field(max_length=20)
    payment_method: str | None = Field(default=None, max_length=20)
    total_minor: int = 0
    complimentary_minor: int = 0
    opened_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)


class SaleLine(SQLModel, table=True):
    __tablename__ = "sale_line"

    id: str = Field(primary_key=True, max_length=36)
    bill_id: str = Field(max_length=36, index=True)
    visit_id: str = Field(max_length=36)
    lounge_id: str = Field(max_length=40, index=True)
    sku: str = Field(max_length=40)
    name: str = Field(max_length=100)
    category: str = Field(max_length=20)
    qty: int = Field(ge=1)
    unit_price_minor: int = Field(ge=0)
    amount_minor: int = Field(ge=0, description="What the guest pays: 0 for a complimentary line")
    complimentary: bool = False
    sold_at: datetime = Field(sa_type=UtcDateTime, index=True)
    voided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    void_reason: str | None = Field(default=None, max_length=500)


class SaleRequestLine(BaseModel):
    sku: str = Field(schema_extra={"pattern": "^[A-Z0-9_-]{2,40}$"})
    qty: int = Field(ge=1, le=100)


class SaleRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"lines": [{"sku": "COFFEE", "qty": 2}, {"sku": "WATER", "qty": 1}]}]})

    lines: list[SaleRequestLine] = Field(min_length=1, max_length=50)


class VoidRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Rung up twice by mistake"}]})

    reason: str = Field(min_length=1, max_length=500)


SALE_LINE_EXAMPLE = {
    "id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "sku": "COFFEE",
    "name": "Americano",
    "category": "hot_drink",
    "qty": 2,
    "unit_price_minor": 2800,
    "amount_minor": 0,
    "complimentary": True,
    "sold_at": "2026-12-23T23:05:00Z",
    "voided_at": None,
    "void_reason": None,
}


class SaleLinePublic(SoldItem):
    model_config = ConfigDict(json_schema_extra={"examples": [SALE_LINE_EXAMPLE]})

    category: LineCategory
    id: str
    sold_at: datetime
    voided_at: datetime | None
    void_reason: str | None


BILL_EXAMPLE = {
    "id": "4c7e9a1b-2d3f-4b5c-8e6a-1f0d9c8b7a6e",
    "visit_id": "8e2b5d7f-3a1c-4f6e-9d8b-7c5a3e1f2b4d",
    "lounge_id": "pek-t3-first",
    "status": "open",
    "payment_method": None,
    "lines": [SALE_LINE_EXAMPLE],
    "total_minor": 0,
    "complimentary_minor": 5600,
}


class BillPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BILL_EXAMPLE]})

    id: str
    visit_id: str
    lounge_id: str
    status: BillStatus
    payment_method: PaymentMethod | None
    lines: list[SaleLinePublic]
    total_minor: int
    complimentary_minor: int

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, CheckConstraint
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime
from lounge.quantities import QtyLine


class StockItem(SQLModel, table=True):
    __tablename__ = "stock_item"
    # The last line of defence; the conditional UPDATE keeps a sale from ever reaching it.
    __table_args__ = (CheckConstraint("on_hand >= 0", name="ck_stock_item_on_hand"),)

    lounge_id: str = Field(primary_key=True, max_length=40)
    sku: str = Field(primary_key=True, max_length=40)
    on_hand: int = Field(ge=0)
    reorder_point: int = Field(ge=0)
    reorder_qty: int = Field(ge=1)
    # True from falling to the reorder point until stock rises above it: one stock.low per crossing.
    low: bool = False


class StockCount(SQLModel, table=True):
    __tablename__ = "stock_count"

    id: str = Field(primary_key=True, max_length=36)
    lounge_id: str = Field(max_length=40, index=True)
    counted_at: datetime = Field(sa_type=UtcDateTime)
    counted_by: str = Field(max_length=200)


class StockCountLine(SQLModel, table=True):
    __tablename__ = "stock_count_line"

    count_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(primary_key=True, max_length=40)
    expected: int
    counted: int = Field(ge=0)
    variance: int


class Delivery(SQLModel, table=True):
    """Goods received without a requisition."""

    id: str = Field(primary_key=True, max_length=36)
    lounge_id: str = Field(max_length=40, index=True)
    received_at: datetime = Field(sa_type=UtcDateTime)
    received_by: str = Field(max_length=200)
    lines: list[dict[str, int | str]] = Field(default_factory=list, sa_type=JSON)


class StockPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"sku": "WATER", "on_hand": 48, "reorder_point": 48, "reorder_qty": 96}]})

    sku: str
    on_hand: int
    reorder_point: int
    reorder_qty: int


class CountLine(BaseModel):
    sku: str = Field(schema_extra={"pattern": "^[A-Z0-9_-]{2,40}$"})
    counted: int = Field(ge=0, le=1_000_000)


class CountRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"sku": "WATER", "counted": 48}, {"sku": "COFFEE", "counted": 120}]}]}
    )

    lines: list[CountLine] = Field(min_length=1, max_length=200)


class CountLinePublic(BaseModel):
    sku: str
    expected: int
    counted: int
    variance: int


class StockCountPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
                    "lounge_id": "pek-t3-first",
                    "counted_at": "2026-12-23T14:00:00Z",
                    "lines": [{"sku": "WATER", "expected": 50, "counted": 48, "variance": -2}],
                }
            ]
        }
    )

    id: str
    lounge_id: str
    counted_at: datetime
    lines: list[CountLinePublic]


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "lounge_id": "pek-t3-first",
                    "received_at": "2026-12-23T03:00:00Z",
                    "lines": [{"sku": "WATER", "qty": 96}],
                    "stock": [{"sku": "WATER", "on_hand": 144, "reorder_point": 48, "reorder_qty": 96}],
                }
            ]
        }
    )

    id: str
    lounge_id: str
    received_at: datetime
    lines: list[QtyLine]
    stock: list[StockPublic]

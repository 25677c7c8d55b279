"""A quantity of one SKU: the lines of a delivery and of a requisition's receipt (lounge.stock, lounge.requisitions)."""

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field


class QtyLine(BaseModel):
    sku: str = Field(schema_extra={"pattern": "^[A-Z0-9_-]{2,40}$"})
    qty: int = Field(ge=1, le=100_000)


class QtyLines(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"lines": [{"sku": "WATER", "qty": 96}, {"sku": "NUTS", "qty": 40}]}]})

    lines: list[QtyLine] = Field(min_length=1, max_length=200)

from enum import StrEnum

from pydantic import ConfigDict, field_validator
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from airside.events.common import Tier

DEFAULT_MIN_LEAD_MINUTES = 180


class ProductKind(StrEnum):
    escort = "escort"
    meet = "meet"
    transfer = "transfer"
    vip_lane = "vip_lane"
    lounge = "lounge"
    assist = "assist"


class ProductBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    kind: ProductKind = Field(max_length=20)
    duration_minutes: int | None = Field(default=None, ge=1, le=24 * 60, description="None: no concierge time (lounge)")
    min_lead_minutes: int = Field(default=DEFAULT_MIN_LEAD_MINUTES, ge=0, le=14 * 24 * 60)
    min_tier: Tier | None = Field(default=None, max_length=20, description="Lowest member tier that may book it")
    requires_ssr: bool = Field(default=False, description="At least one passenger must carry an SSR code")
    needs_concierge: bool = True


class ProductUpdate(ProductBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "name": "Departure escort",
                    "kind": "escort",
                    "duration_minutes": 90,
                    "min_lead_minutes": 180,
                    "needs_concierge": True,
                    "prices": {"standard": 30000, "gold": 20000, "platinum": 10000, "vip": 0},
                }
            ]
        }
    )

    prices: dict[Tier, int] = Field(sa_type=JSON, description="Price in minor units (fen) per member tier")

    @field_validator("prices")
    @classmethod
    def _every_tier_priced(cls, prices: dict[Tier, int]) -> dict[Tier, int]:
        missing = [tier.value for tier in Tier if tier not in prices]
        if missing:
            raise ValueError(f"a price is needed for every tier; missing {', '.join(missing)}")
        if any(amount < 0 for amount in prices.values()):
            raise ValueError("prices are never negative")
        return prices


class Product(ProductBase, table=True):
    code: str = Field(primary_key=True, max_length=30)
    kind: str = Field(max_length=20)
    min_tier: str | None = Field(default=None, max_length=20)
    prices: dict[str, int] = Field(sa_type=JSON)

    def price_for(self, tier: str) -> int:
        return int(self.prices[str(tier)])


class ProductPublic(ProductBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {
                    "code": "DEP_ESCORT",
                    "name": "Departure escort",
                    "kind": "escort",
                    "duration_minutes": 90,
                    "min_lead_minutes": 180,
                    "min_tier": None,
                    "requires_ssr": False,
                    "needs_concierge": True,
                    "prices": {"standard": 30000, "gold": 20000, "platinum": 10000, "vip": 0},
                }
            ]
        }
    )

    code: str
    prices: dict[str, int]

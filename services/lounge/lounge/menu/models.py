from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel


class Category(StrEnum):
    soft_drink = "soft_drink"
    hot_drink = "hot_drink"
    alcohol = "alcohol"
    snack = "snack"
    meal = "meal"
    retail = "retail"


class MenuItemBase(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"name": "Americano", "category": "hot_drink", "price_minor": 2800, "complimentary": True}]}
    )

    name: str = Field(min_length=1, max_length=100)
    category: Category
    price_minor: int = Field(ge=0)
    complimentary: bool = Field(description="Free on an entitled (order or tier) visit")


class MenuItem(MenuItemBase, table=True):
    __tablename__ = "menu_item"

    sku: str = Field(primary_key=True, max_length=40)
    version: int = 1


class MenuItemPublic(MenuItemBase):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={
            "examples": [
                {"sku": "COFFEE", "name": "Americano", "category": "hot_drink", "price_minor": 2800, "complimentary": True, "version": 1}
            ]
        }
    )

    sku: str
    version: int

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from airside.auth import Principal, Role, require
from airside.db import SessionDep, insert_ignoring_duplicates
from lounge.lounges.models import Lounge
from lounge.menu.models import MenuItem, MenuItemBase, MenuItemPublic
from lounge.stock.models import StockItem

router = APIRouter(prefix="/v1/menu", tags=["menu"])

# A new SKU's stock row per lounge: nothing on hand, at the reorder point already (no stock.low until it
# has been above it), one unit onto the draft requisition when it runs out after a delivery.
NEW_SKU_STOCK = {"on_hand": 0, "reorder_point": 0, "reorder_qty": 1, "low": True}

Sku = Annotated[str, Path(pattern="^[A-Z0-9_-]{2,40}$")]


@router.get("")
async def get_menu(session: SessionDep, _caller: Annotated[Principal, Depends(require(*Role))]) -> list[MenuItemPublic]:
    rows = (await session.execute(select(MenuItem).order_by(MenuItem.category, MenuItem.sku))).scalars()
    return [MenuItemPublic.model_validate(row, from_attributes=True) for row in rows]


@router.put("/{sku}")
async def put_menu_item(
    sku: Sku, body: MenuItemBase, session: SessionDep, _admin: Annotated[Principal, Depends(require())]
) -> MenuItemPublic:
    item = await session.get(MenuItem, sku)
    if item is None:
        item = MenuItem(sku=sku, **body.model_dump())
        session.add(item)
    else:
        item.sqlmodel_update(body.model_dump())
        item.version += 1
    # Every lounge can stock what is on the menu: a new SKU starts at zero until a delivery; existing rows stay.
    for lounge_id in (await session.execute(select(Lounge.id))).scalars():
        row = {"lounge_id": lounge_id, "sku": sku, **NEW_SKU_STOCK}
        await insert_ignoring_duplicates(session, StockItem, row, index_elements=["lounge_id", "sku"])
    await session.commit()
    return MenuItemPublic.model_validate(item, from_attributes=True)

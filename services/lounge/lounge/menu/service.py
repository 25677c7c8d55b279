"""The menu, one list for every lounge; each lounge can stock what is on it."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.statements import insert_ignoring_duplicates
from lounge.lounges.models import Lounge
from lounge.menu.models import MenuItem, MenuItemBase
from lounge.stock.models import StockItem

# A new SKU's stock row per lounge: nothing on hand, at the reorder point already (no stock.low until it
# has been above it), one unit onto the draft requisition when it runs out after a delivery.
NEW_SKU_STOCK = {"on_hand": 0, "reorder_point": 0, "reorder_qty": 1, "low": True}


async def menu(session: AsyncSession) -> list[MenuItem]:
    return list((await session.execute(select(MenuItem).order_by(MenuItem.category, MenuItem.sku))).scalars())


async def put_item(session: AsyncSession, sku: str, body: MenuItemBase) -> MenuItem:
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
    return item

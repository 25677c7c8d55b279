from typing import Annotated

from fastapi import APIRouter, Depends, Path

from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from lounge.menu import service
from lounge.menu.models import MenuItemBase, MenuItemPublic

router = APIRouter(prefix="/v1/menu", tags=["menu"])

Sku = Annotated[str, Path(pattern="^[A-Z0-9_-]{2,40}$")]


@router.get("", summary="List the menu")
async def get_menu(
    session: SessionDep,
    _caller: Annotated[Principal, Depends(require(*Role))],
    cursor: Annotated[Keyset, keyset(str, str)],
    limit: LimitQuery = 200,
) -> Page[MenuItemPublic]:
    """What the lounges sell, by SKU."""
    menu, next_cursor = cursor.page_of(await service.menu(session), limit, lambda row: (row.category, row.sku))
    return Page(items=[MenuItemPublic.model_validate(row, from_attributes=True) for row in menu], next_cursor=next_cursor)


@router.put("/{sku}", summary="Create or replace a menu item")
async def put_menu_item(
    sku: Sku, body: MenuItemBase, session: SessionDep, _admin: Annotated[Principal, Depends(require())]
) -> MenuItemPublic:
    """Create or replace a menu item by its SKU."""
    item = await service.put_item(session, sku, body)
    await session.commit()
    return MenuItemPublic.model_validate(item, from_attributes=True)

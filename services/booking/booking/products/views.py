from typing import Annotated

from fastapi import APIRouter, Depends, Path

from airside.auth import CurrentUser, Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from booking.products import service
from booking.products.models import ProductPublic, ProductUpdate

router = APIRouter(prefix="/v1/products", tags=["products"])

ProductCode = Annotated[str, Path(pattern="^[A-Z][A-Z0-9_]{1,29}$")]


def _public(product: object) -> ProductPublic:
    return ProductPublic.model_validate(product, from_attributes=True)


@router.get("", summary="List bookable products")
async def list_products(
    session: SessionDep, _user: CurrentUser, cursor: Annotated[Keyset, keyset(str)], limit: LimitQuery = 200
) -> Page[ProductPublic]:
    """The products a member can book, with prices and lead times."""
    products, next_cursor = cursor.page_of(await service.list_products(session=session), limit, lambda product: (product.code,))
    return Page(items=[_public(product) for product in products], next_cursor=next_cursor)


@router.put("/{code}", summary="Create or replace a product")
async def put_product(
    code: ProductCode,
    body: ProductUpdate,
    session: SessionDep,
    _admin: Annotated[Principal, Depends(require(Role.admin))],
    idempotency: IdempotencyDep,
) -> ProductPublic:
    """Create or replace a product by its code."""

    async def act() -> ProductPublic:
        return _public(await service.upsert_product(session=session, code=code, update=body))

    return await idempotency.execute(session, act)  # type: ignore[return-value]

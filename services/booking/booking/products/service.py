from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.products.models import Product, ProductUpdate


async def list_products(*, session: AsyncSession) -> list[Product]:
    return list((await session.execute(select(Product).order_by(Product.code))).scalars().all())


async def products_by_code(*, session: AsyncSession, codes: list[str]) -> dict[str, Product]:
    rows = (await session.execute(select(Product).where(Product.code.in_(codes)))).scalars().all()  # type: ignore[attr-defined]
    return {product.code: product for product in rows}


async def upsert_product(*, session: AsyncSession, code: str, update: ProductUpdate) -> Product:
    """Prices are data: ops change them here; orders keep the price they were booked at."""
    values = update.model_dump(mode="json")
    product = await session.get(Product, code)
    if product is None:
        product = Product(code=code, **values)
        session.add(product)
    else:
        for name, value in values.items():
            setattr(product, name, value)
    await session.flush()
    return product

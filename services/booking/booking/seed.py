"""Reference data booking starts with; inserted once, never overwriting what ops changed."""

from sqlalchemy.ext.asyncio import AsyncSession

from booking.products import service as products
from booking.products.models import Product, ProductKind, ProductUpdate
from booking.stations import service as stations
from booking.stations.models import Station, StationUpdate

STATIONS = {
    "PEK": StationUpdate(name="Beijing Capital", timezone="Asia/Shanghai"),
    "KMG": StationUpdate(name="Kunming Changshui", timezone="Asia/Shanghai"),
}


def _prices(standard: int, gold: int, platinum: int, vip: int) -> dict[str, int]:
    return {"standard": standard, "gold": gold, "platinum": platinum, "vip": vip}


# CNY in fen (minor units); the higher the tier, the lower the price.
PRODUCTS = {
    "DEP_ESCORT": ProductUpdate(
        name="Departure escort: meet, boarding pass, bags, security, to gate or lounge",
        kind=ProductKind.escort,
        duration_minutes=90,
        prices=_prices(68_000, 58_000, 48_000, 38_000),  # type: ignore[arg-type]
    ),
    "ARR_MEET": ProductUpdate(
        name="Arrival meet at the aircraft door with a name sign, bags, to the car",
        kind=ProductKind.meet,
        duration_minutes=60,
        prices=_prices(48_000, 40_000, 32_000, 25_000),  # type: ignore[arg-type]
    ),
    "TRANSFER": ProductUpdate(
        name="Connection assistance between flights",
        kind=ProductKind.transfer,
        duration_minutes=90,
        prices=_prices(58_000, 50_000, 42_000, 35_000),  # type: ignore[arg-type]
    ),
    "VIP_CHANNEL": ProductUpdate(
        name="Escort through the dedicated security lane",
        kind=ProductKind.vip_lane,
        duration_minutes=30,
        min_tier="platinum",  # type: ignore[arg-type]
        prices=_prices(30_000, 30_000, 20_000, 10_000),  # type: ignore[arg-type]
    ),
    "LOUNGE": ProductUpdate(
        name="Lounge access",
        kind=ProductKind.lounge,
        duration_minutes=None,
        needs_concierge=False,
        prices=_prices(28_000, 20_000, 10_000, 0),  # type: ignore[arg-type]
    ),
    "ASSIST": ProductUpdate(
        name="Special assistance (SSR: WCHR, WCHS, WCHC, BLND, DEAF, DPNA, UMNR, MEDA, MAAS)",
        kind=ProductKind.assist,
        duration_minutes=90,
        requires_ssr=True,
        prices=_prices(30_000, 25_000, 20_000, 15_000),  # type: ignore[arg-type]
    ),
}


async def seed(session: AsyncSession) -> None:
    for code, station in STATIONS.items():
        if await session.get(Station, code) is None:
            await stations.upsert_station(session=session, code=code, update=station)
    for code, product in PRODUCTS.items():
        if await session.get(Product, code) is None:
            await products.upsert_product(session=session, code=code, update=product)

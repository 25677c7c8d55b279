"""Reference data the lounge service starts with; inserted once, never overwriting ops' changes."""

from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from lounge.lounges.models import Lounge
from lounge.menu.models import Category, MenuItem
from lounge.stations import Station
from lounge.stock.models import StockItem

STATIONS = [
    Station(code="PEK", name="Beijing Capital", timezone="Asia/Shanghai"),
    Station(code="KMG", name="Kunming Changshui", timezone="Asia/Shanghai"),
]

LOUNGES = [
    Lounge(id="PEK-T3-VIP", station="PEK", name="Beijing T3 VIP Lounge", capacity=40, opens=time(6), closes=time(23),
           boarding_call_minutes=40, day_pass_minor=30000, guest_fee_minor=20000),
    Lounge(id="KMG-VIP", station="KMG", name="Kunming VIP Lounge", capacity=24, opens=time(6), closes=time(23),
           boarding_call_minutes=40, day_pass_minor=30000, guest_fee_minor=20000),
]  # fmt: skip

MENU = [
    ("TEA", "Jasmine tea", Category.hot_drink, 2800, True),
    ("COFFEE", "Americano", Category.hot_drink, 3200, True),
    ("JUICE", "Orange juice", Category.soft_drink, 2500, True),
    ("WATER", "Mineral water", Category.soft_drink, 1200, True),
    ("COLA", "Cola", Category.soft_drink, 1500, True),
    ("BEER", "Tsingtao beer", Category.alcohol, 4500, False),
    ("WINE", "Red wine, glass", Category.alcohol, 8800, False),
    ("WHISKY", "Whisky, 40 ml", Category.alcohol, 12800, False),
    ("NOODLES", "Beef noodles", Category.meal, 6800, False),
    ("SNACKS", "Snack plate", Category.snack, 2200, True),
    ("NUTS", "Mixed nuts", Category.snack, 1800, True),
    ("PANDA", "Panda plush (retail)", Category.retail, 9900, False),
]

# Opening stock per lounge: (on_hand, reorder_point, reorder_qty) by category of bar use.
STOCK = {
    "TEA": (400, 50, 300),
    "COFFEE": (400, 50, 300),
    "JUICE": (200, 30, 150),
    "WATER": (300, 40, 240),
    "COLA": (200, 30, 150),
    "BEER": (150, 24, 120),
    "WINE": (60, 12, 48),
    "WHISKY": (40, 8, 24),
    "NOODLES": (80, 15, 60),
    "SNACKS": (120, 20, 100),
    "NUTS": (120, 20, 100),
    "PANDA": (30, 5, 20),
}


async def seed(session: AsyncSession) -> None:
    for station in STATIONS:
        if await session.get(Station, station.code) is None:
            session.add(Station.model_validate(station))
    for lounge in LOUNGES:
        if await session.get(Lounge, lounge.id) is None:
            session.add(Lounge.model_validate(lounge))
    for sku, name, category, price_minor, complimentary in MENU:
        if await session.get(MenuItem, sku) is None:
            session.add(MenuItem(sku=sku, name=name, category=category, price_minor=price_minor, complimentary=complimentary))
    for lounge in LOUNGES:
        for sku, (on_hand, reorder_point, reorder_qty) in STOCK.items():
            if await session.get(StockItem, (lounge.id, sku)) is None:
                session.add(StockItem(lounge_id=lounge.id, sku=sku, on_hand=on_hand, reorder_point=reorder_point, reorder_qty=reorder_qty))

"""Reading orders: one order (else 404), GET /v1/orders (station, local date, status, member, flight, paying carrier; keyset
by (meet_at, id)), an order's history, and what its shapes and times name: its concierge, its station's zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events.common import Person
from airside.problems import not_found
from booking.concierges.models import Concierge
from booking.concierges.service import local_day
from booking.orders.models import Order, OrderHistory
from booking.stations.models import Station


async def get_order(*, session: AsyncSession, order_id: str) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise not_found("order")
    return order


async def search_orders(
    *,
    session: AsyncSession,
    stations: frozenset[str] | None,
    day: date | None,
    status: str | None,
    member_id: str | None,
    flight_no: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
    payer_carrier: str | None = None,
) -> list[Order]:
    query = select(Order).order_by(Order.meet_at, Order.id).limit(limit + 1)  # type: ignore[arg-type]
    if stations is not None:
        query = query.where(Order.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    if day is not None:
        # "date" is each station's own local day of meet_at.
        zones = (await session.execute(select(Station.code, Station.timezone))).all()
        windows = []
        for code, zone in zones:
            if stations is None or code in stations:
                start, end = local_day(day, ZoneInfo(zone))
                windows.append(and_(Order.station == code, Order.meet_at >= start, Order.meet_at < end))  # type: ignore[operator]
        query = query.where(or_(*windows) if windows else false())
    if status is not None:
        query = query.where(Order.status == status)
    if member_id is not None:
        query = query.where(Order.member_id == member_id)
    if flight_no is not None:
        query = query.where(Order.flight_no == flight_no)
    if payer_carrier is not None:
        query = query.where(Order.payer_carrier == payer_carrier)
    if after is not None:
        last_meet_at, last_id = after
        query = query.where(or_(Order.meet_at > last_meet_at, and_(Order.meet_at == last_meet_at, Order.id > last_id)))  # type: ignore[operator]
    return list((await session.execute(query)).scalars().all())


async def history_of(session: AsyncSession, order: Order) -> list[OrderHistory]:
    """What happened to the order, oldest first."""
    query = select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())


async def station_zone(session: AsyncSession, code: str) -> ZoneInfo:
    station = await session.get(Station, code)
    return ZoneInfo(station.timezone if station else "UTC")


async def concierge_person(session: AsyncSession, concierge_id: str | None) -> Person | None:
    if concierge_id is None:
        return None
    concierge = await session.get(Concierge, concierge_id)
    return Person(id=concierge_id, name=concierge.name if concierge else "")

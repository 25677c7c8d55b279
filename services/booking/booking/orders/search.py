"""Reading orders: GET /v1/orders (station, local date, status, member, flight; keyset by (meet_at, id)) and an order's history."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.concierges.service import local_day
from booking.orders.models import Order, OrderHistory
from booking.stations.models import Station


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
    if after is not None:
        last_meet_at, last_id = after
        query = query.where(or_(Order.meet_at > last_meet_at, and_(Order.meet_at == last_meet_at, Order.id > last_id)))  # type: ignore[operator]
    return list((await session.execute(query)).scalars().all())


async def history_of(session: AsyncSession, order: Order) -> list[OrderHistory]:
    """What happened to the order, oldest first."""
    query = select(OrderHistory).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())

"""Expected visits from booking's order events: the newest snapshot wins (airside.copies), cancellations drop them."""

from datetime import date

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.copies import keep_newest
from airside.db.columns import utcnow
from airside.events.booking import OrderSnapshot
from airside.statements import Runner
from lounge.flights import service as flights
from lounge.orders.models import LOUNGE_PRODUCT, ExpectedStatus, ExpectedVisit

DROPPING_STATUSES = frozenset({"cancelled", "no_show"})
# The row of an order lounge has seen no LOUNGE item on (yet): it holds the version, so a late, older
# snapshot with LOUNGE cannot make an order whose LOUNGE item was removed expected again. Never listed,
# never checked in from. Only an order's first snapshot is left without a row: nothing is older.
NO_LOUNGE = ExpectedStatus.no_lounge


async def apply_order(*, session: AsyncSession, order: OrderSnapshot) -> None:
    """Keep the newest snapshot: the snapshots of an order leave the same row in whatever order they arrive."""
    has_lounge = any(item.product == LOUNGE_PRODUCT for item in order.items)
    run = await Runner.of_session(session)
    held = await run.first(_HELD_STATUS, {"order_id": order.id})
    if held is None and not has_lounge and order.version == 1:
        return  # an order lounge never needs to know (yet): nothing older can come
    if has_lounge:
        await flights.remember_from_order(session=session, info=order.flight)
    had_lounge = has_lounge or (held is not None and held["status"] != NO_LOUNGE)
    status = (
        ExpectedStatus.expected
        if has_lounge and order.status not in DROPPING_STATUSES
        else ExpectedStatus.dropped
        if had_lounge
        else NO_LOUNGE
    )
    values = {
        "order_id": order.id,
        "order_ref": order.ref,
        "member_id": order.member_id,
        "station": order.station,
        "flight_no": order.flight.flight_no,
        "flight_date": order.flight.flight_date,
        "passengers": max(len(order.passengers), 1),
        "passenger_names": [passenger.name for passenger in order.passengers],
        "status": status,
        "order_status": order.status,
        "order_version": order.version,
        "updated_at": utcnow(),
    }
    written = await keep_newest(session, ExpectedVisit, values, key="order_id", version="order_version")
    if not written and has_lounge:
        # A late, older snapshot shows the order had a LOUNGE item: a row that never saw one was dropped.
        await run.rows(_DROP_UNSEEN_LOUNGE, {"order_id": order.id})


_HELD_STATUS = select(ExpectedVisit.status).where(ExpectedVisit.order_id == bindparam("order_id"))  # type: ignore[arg-type]
_DROP_UNSEEN_LOUNGE = (
    update(ExpectedVisit)
    .where(ExpectedVisit.order_id == bindparam("order_id"), ExpectedVisit.status == NO_LOUNGE)  # type: ignore[arg-type]
    .values(status=ExpectedStatus.dropped)
)


async def expected_for(*, session: AsyncSession, member_id: str, flight_no: str, flight_date: date) -> ExpectedVisit | None:
    """The member's lounge order on this flight, if any."""
    query = select(ExpectedVisit).where(
        ExpectedVisit.member_id == member_id,
        ExpectedVisit.flight_no == flight_no,
        ExpectedVisit.flight_date == flight_date,
        ExpectedVisit.status == ExpectedStatus.expected,
    )
    return (await session.execute(query)).scalars().first()


async def expected_on_flight(*, session: AsyncSession, flight_no: str, flight_date: date) -> list[ExpectedVisit]:
    query = select(ExpectedVisit).where(
        ExpectedVisit.flight_no == flight_no, ExpectedVisit.flight_date == flight_date, ExpectedVisit.status == ExpectedStatus.expected
    )
    return list((await session.execute(query)).scalars())


async def expected_at_station(
    *,
    session: AsyncSession,
    station: str,
    flight_date: date | None,
    order_id: str | None,
    after: tuple[date, str, str] | None,
    limit: int,
) -> list[ExpectedVisit]:
    """Orders with a LOUNGE item at the station, as booking announced them (cancelled ones dropped), by flight
    then order; keyset after `after`, one row past the page."""
    query = (
        select(ExpectedVisit)
        .where(ExpectedVisit.station == station, ExpectedVisit.status != NO_LOUNGE)
        .order_by(ExpectedVisit.flight_date, ExpectedVisit.flight_no, ExpectedVisit.order_id)  # type: ignore[arg-type]
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(ExpectedVisit.flight_date, ExpectedVisit.flight_no, ExpectedVisit.order_id) > tuple_(*after))
    if flight_date is not None:
        query = query.where(ExpectedVisit.flight_date == flight_date)
    if order_id is not None:
        query = query.where(ExpectedVisit.order_id == order_id)
    return list((await session.execute(query)).scalars())

"""Reading and writing an order: snapshots for events and responses, versioned saves with history."""

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.db.rows import row_instance
from airside.events.booking import FeesCollected, OrderItem, OrderSnapshot
from airside.events.common import FlightInfo, Money, Passenger, Person
from airside.flight_numbers import split_flight_no
from airside.problems import conflict, not_found
from airside.statements import Runner, WritePlan, apply
from booking.concierges.models import Concierge
from booking.flights.models import Flight
from booking.orders.models import Order, OrderPublic
from booking.orders.statements import HISTORY, ORDER_COLUMNS, order_change
from booking.stations.models import Station


async def get_order(*, session: AsyncSession, order_id: str) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise not_found("order")
    return order


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


async def station_zone(session: AsyncSession, code: str) -> ZoneInfo:
    station = await session.get(Station, code)
    return ZoneInfo(station.timezone if station else "UTC")


async def concierge_person(session: AsyncSession, concierge_id: str | None) -> Person | None:
    if concierge_id is None:
        return None
    concierge = await session.get(Concierge, concierge_id)
    return Person(id=concierge_id, name=concierge.name if concierge else "")


async def snapshot(session: AsyncSession, order: Order) -> OrderSnapshot:
    """The whole order, flight and concierge included, so consumers never call back."""
    flight = await session.get(Flight, (order.flight_no, order.flight_date))
    return snapshot_of(order, flight, await concierge_person(session, order.concierge_id))


def snapshot_of(order: Order, flight: Flight | None, concierge: Person | None) -> OrderSnapshot:
    """The snapshot from rows already read (creating and completing read them in one round trip)."""
    if flight is not None:
        flight_info = flight.info()
    else:
        carrier, number = split_flight_no(order.flight_no)
        flight_info = FlightInfo(
            flight_no=order.flight_no, carrier=carrier, number=number, flight_date=order.flight_date, origin="", destination=""
        )
    return OrderSnapshot(
        id=order.id,
        ref=order.ref,
        version=order.version,
        member_id=order.member_id,
        station=order.station,
        status=order.status,
        direction=order.direction,
        channel=order.channel,
        flight=flight_info,
        items=[OrderItem(product=product) for product in order.products],
        passengers=[Passenger.model_validate(passenger) for passenger in order.passengers],
        meet_at=order.meet_at,
        staff_report_at=order.staff_report_at,
        confirm_by=order.confirm_by,
        meeting_point=order.meeting_point,
        concierge=concierge,
        source_ticket_id=order.source_ticket_id,
        price=Money(amount_minor=order.price_minor, currency=order.currency),
        updated_at=order.updated_at,
    )


def _money(order: Order, amount: int | None) -> Money | None:
    return None if amount is None else Money(amount_minor=amount, currency=order.currency)


async def public(session: AsyncSession, order: Order) -> OrderPublic:
    return public_of(order, await snapshot(session, order))


def public_of(order: Order, snapshot: OrderSnapshot) -> OrderPublic:
    fees = None
    if order.fees_collected_minor is not None and order.fees_method is not None:
        fees = FeesCollected(amount_minor=order.fees_collected_minor, currency=order.currency, method=order.fees_method)
    return OrderPublic(
        **snapshot.model_dump(),
        checked_bags=order.checked_bags,
        seat_preference=order.seat_preference,
        notes=order.notes,
        service_end_at=order.service_end_at,
        late_fee=_money(order, order.late_fee_minor or None),
        cancellation_fee=_money(order, order.cancellation_fee_minor),
        cancel_reason=order.cancel_reason,
        no_show_fee=_money(order, order.no_show_fee_minor),
        fees_collected=fees,
        created_at=order.created_at,
    )


def history_row(order: Order, *, action: str, actor: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The history line of the order's version just written."""
    return {
        "order_id": order.id,
        "version": order.version,
        "action": action,
        "status": order.status,
        "actor": actor,
        "at": clock.now(),
        "details": details or {},
    }


def change_plan(
    order: Order, values: dict[str, Any], *, action: str, actor: str, details: dict[str, Any] | None = None
) -> tuple[WritePlan, Order]:
    """The versioned save of `values` on the order as read, with its history line: the plan and the order it writes."""
    names = tuple(sorted(values))
    changed = {**values, "updated_at": clock.now()}
    done = row_instance(Order, {**{name: getattr(order, name) for name in ORDER_COLUMNS}, **changed, "version": order.version + 1})
    head = {f"set_{name}": value for name, value in changed.items()}
    plan = WritePlan(order_change(names), {**head, "where_id": order.id, "where_version": order.version})
    plan.add(HISTORY, history_row(done, action=action, actor=actor, details=details))
    return plan, done


def concurrent_change() -> Exception:
    return conflict("concurrent_change", "the order changed while this request ran; read it again and retry")


async def save(
    session: AsyncSession, order: Order, *, values: dict[str, Any], action: str, actor: str, details: dict[str, Any] | None = None
) -> Order:
    """Apply a change only to the version we read (a racing change makes this one a 409), and keep it in history."""
    plan, _done = change_plan(order, values, action=action, actor=actor, details=details)
    if not await apply(await Runner.of_session(session), plan):
        raise concurrent_change()
    await session.refresh(order)
    return order

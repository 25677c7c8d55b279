"""An order's two shapes: the snapshot every order event carries (the whole order, its flight and
concierge included, so consumers never call back) and the API's OrderPublic (the snapshot and what
only the API shows: fees, bags, notes)."""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events.booking import OrderItem, OrderPayer, OrderSnapshot
from airside.events.common import FlightInfo, Money, Passenger, Person
from airside.flight_numbers import split_flight_no
from booking.flights.models import Flight
from booking.orders.models import FeesCollectedPublic, Order, OrderPublic
from booking.orders.reads import concierge_person


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
        payer=OrderPayer.model_validate(order.payer) if order.payer else None,
    )


def _money(order: Order, amount: int | None) -> Money | None:
    return None if amount is None else Money(amount_minor=amount, currency=order.currency)


async def public(session: AsyncSession, order: Order) -> OrderPublic:
    return public_of(order, await snapshot(session, order))


def public_of(order: Order, snapshot: OrderSnapshot) -> OrderPublic:
    fees = None
    if order.fees_collected_minor is not None and order.fees_method is not None:
        fees = FeesCollectedPublic(amount_minor=order.fees_collected_minor, currency=order.currency, method=order.fees_method)
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

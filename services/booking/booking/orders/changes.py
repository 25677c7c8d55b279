"""Changing an order (PATCH /v1/orders/{id}, docs/booking.md "Changes and disruption"): flight,
meeting point, passengers or items; its times and price follow, and it is unassigned when the new window
no longer fits the concierge."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.events import booking as events
from airside.events.booking import OrderStatus
from airside.messaging.outbox import record
from airside.versioning import stale
from booking.carriers import pricing as carrier_pricing
from booking.flights import service as flights
from booking.members.models import Member
from booking.orders import reads, rules, saving, snapshots
from booking.orders.availability import lock_concierge, unavailable_because
from booking.orders.creation import flight_for
from booking.orders.models import ItemIn, Order, OrderUpdate, PassengerIn
from booking.orders.transitions import require_transition
from booking.products import service as products


async def change_order(*, session: AsyncSession, order: Order, expected_version: int, body: OrderUpdate, principal: Principal) -> Order:
    """Change flight, meeting point, passengers or items; times and price follow, the concierge goes if the window no longer fits."""
    require_transition("change", order.status)
    if order.version != expected_version:
        raise stale(order.version)
    member = await session.get(Member, order.member_id)
    assert member is not None
    given = body.model_dump(exclude_unset=True)
    items = body.items if body.items is not None else [ItemIn(product=code) for code in order.products]
    passengers = body.passengers if body.passengers is not None else [PassengerIn.model_validate(p) for p in order.passengers]
    chosen = rules.chosen_products(items, await products.products_by_code(session=session, codes=[item.product for item in items]))
    rules.check_products(chosen, passengers=passengers, tier=member.tier)
    values: dict[str, Any] = {key: given[key] for key in ("meeting_point", "checked_bags", "seat_preference", "notes") if key in given}
    flight_no, flight_date = order.flight_no, order.flight_date
    if body.flight is not None:
        rules.check_station(order.station, order.direction, body.flight)
        flight = await flight_for(session=session, ref=body.flight, direction=order.direction)
        flight_no, flight_date = flight.flight_no, flight.flight_date
    else:
        flight = await flights.get_flight(session=session, flight_no=order.flight_no, flight_date=order.flight_date)
    flight_changed = (flight_no, flight_date) != (order.flight_no, order.flight_date)
    if body.meet_at is not None:
        meet_at, meet_at_given = body.meet_at, True
    elif flight_changed or not order.meet_at_given:
        meet_at, meet_at_given = rules.meet_at_for(order.direction, flight, None), False
    else:
        meet_at, meet_at_given = order.meet_at, True
    late = rules.check_lead(meet_at=meet_at, chosen=chosen, member_booking=principal.is_member_only)
    zone = await reads.station_zone(session, order.station)
    partner = None
    if order.payer is not None:  # a partner order stays at its carrier's contract rates, as in force at the new time
        carrier = order.payer["carrier"]
        terms = [
            dict(row)
            for row in (await session.execute(carrier_pricing.PARTNER_TERMS, carrier_pricing.params(carrier, order.station))).mappings()
        ]
        partner = carrier_pricing.rates_in_force(terms, carrier=carrier, at=meet_at, zone=zone)
    pricing = rules.price(chosen, tier=member.tier, late=late or order.late_fee_minor > 0, partner=partner)
    new_times = rules.order_times(meet_at, zone, chosen)
    values.update(
        flight_no=flight_no,
        flight_date=flight_date,
        items=[{"product": product.code} for product in chosen],
        passengers=[passenger.model_dump() for passenger in passengers],
        meet_at_given=meet_at_given,
        service_minutes=rules.service_minutes(chosen),
        price_minor=pricing.price_minor,
        late_fee_minor=pricing.late_fee_minor,
        **new_times.as_values(),
        **rules.partner_values(partner, chosen),
    )
    previous = await reads.concierge_person(session, order.concierge_id)
    if order.status == OrderStatus.assigned and order.concierge_id is not None:
        values.update(await _keep_or_release(session, order, new_times.staff_report_at, new_times.service_end_at))
    order = await saving.save(session, order, values=values, action="changed", actor=principal.sub, details={"fields": sorted(given)})
    snapshot = await snapshots.snapshot(session, order)
    record(session, events.order_changed, events.OrderEvent(order=snapshot), subject=order.id)
    if previous is not None and order.concierge_id is None:
        record(
            session,
            events.order_reassignment_needed,
            events.OrderReassignmentNeeded(
                order=snapshot, previous_concierge=previous, reason="the changed order no longer fits the concierge"
            ),
            subject=order.id,
        )
    return order


async def _keep_or_release(session: AsyncSession, order: Order, start: Any, end: Any) -> dict[str, Any]:
    """Unassign (back to confirmed) when the concierge cannot take the new window."""
    assert order.concierge_id is not None
    concierge = await lock_concierge(session=session, concierge_id=order.concierge_id)
    probe = Order.model_construct(**{**order.model_dump(), "staff_report_at": start, "service_end_at": end})
    if await unavailable_because(session=session, concierge=concierge, order=probe) is None:
        return {}
    return {"concierge_id": None, "status": OrderStatus.confirmed.value}

"""What goes on the statements from events: carrier-paid lounge visits and refusals (lounge's stream) and
completed partner orders (booking's own stream). Each line is keyed by what it bills, so a replay or a later
event of the same visit or order never doubles it (docs/carriers.md "Statements").

booking.subscriptions runs these on durable consumers of their own: a statement's trouble never holds up
the orders' consumer of the same visits."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as booking_events
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from booking.settlement import service
from booking.settlement.models import LATE_FEE_SERVICE, LOUNGE_SERVICE, Refusal

CARRIER_PAYER = "carrier"


async def on_visit(session: AsyncSession, event: CloudEvent) -> None:
    """A carrier-paid visit's line, from its check-in (or its check-out, should the check-in be lost)."""
    visit = lounge_events.visit_checked_in.parse(event).visit
    if visit.payer != CARRIER_PAYER or not visit.carrier or visit.rate_minor is None:
        return
    await service.add_line(
        session=session,
        billed=service.Billed(
            source=f"visit:{visit.id}",
            carrier=visit.carrier,
            station=visit.station,
            currency=visit.currency or "CNY",
            at=visit.checked_in_at,
            service=LOUNGE_SERVICE,
            rate_minor=visit.rate_minor,
            quantity=1 + (visit.guests_carrier_paid or 0),
            passenger_name=visit.passenger_name,
            flight_no=visit.flight_no,
            flight_date=visit.flight_date,
            cabin=visit.cabin,
            reference=visit.id,
            contract_id=visit.contract_id,
            contract_version=visit.contract_version,
        ),
    )


async def on_entry_refused(session: AsyncSession, event: CloudEvent) -> None:
    refused = lounge_events.entry_refused.parse(event)
    zone = await service.station_zone(session, refused.station)
    await service.add_refusal(
        session=session,
        refusal=Refusal(
            id=refused.id,
            carrier=refused.carrier,
            station=refused.station,
            month=service.month_of(refused.refused_at.astimezone(zone).date()),
            lounge_id=refused.lounge_id,
            flight_no=refused.flight_no,
            flight_date=refused.flight_date,
            cabin=refused.cabin,
            passenger_name=refused.passenger_name,
            reason=refused.reason,
            refused_at=refused.refused_at,
        ),
    )


async def on_order_completed(session: AsyncSession, event: CloudEvent) -> None:
    """A completed partner order: a line per item at the contract's rate, and its late fee if any."""
    order = booking_events.order_completed.parse(event).order
    payer = order.payer
    if payer is None:
        return
    names = ", ".join(passenger.name for passenger in order.passengers)[:100]
    at: datetime = order.meet_at
    billed = [(item.product, rate.rate_minor) for item in order.items for rate in payer.rates if rate.product == item.product]
    late_fee = order.price.amount_minor - sum(rate for _product, rate in billed)
    if late_fee > 0:
        billed.append((LATE_FEE_SERVICE, late_fee))
    for product, rate in billed:
        await service.add_line(
            session=session,
            billed=service.Billed(
                source=f"order:{order.id}:{product}",
                carrier=payer.carrier,
                station=order.station,
                currency=order.price.currency,
                at=at,
                service=product,
                rate_minor=rate,
                passenger_name=names or None,
                flight_no=order.flight.flight_no,
                flight_date=order.flight.flight_date,
                reference=order.ref,
                contract_id=payer.contract_id,
                contract_version=payer.contract_version,
            ),
        )


LOUNGE_HANDLERS: dict[str, Handler] = {
    lounge_events.visit_checked_in.type: on_visit,
    lounge_events.visit_checked_out.type: on_visit,
    lounge_events.entry_refused.type: on_entry_refused,
}
ORDER_HANDLERS: dict[str, Handler] = {booking_events.order_completed.type: on_order_completed}

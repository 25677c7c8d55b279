"""The durable consumers booking runs, one per stream it reads, each from the handlers of the packages
that own the effects (each package's `consumers.HANDLERS`; docs/booking.md "Where things are").

The durable names and filter subjects are deployed state: JetStream keeps each consumer's position
under its name, so renaming one would start it over from the stream's first message.
"""

from airside.messaging.streams import ConsumerSpec
from booking.flight_changes import consumers as flight_changes
from booking.orders import consumers as orders
from booking.settlement import consumers as settlement

CONSUMERS: list[ConsumerSpec] = [
    ConsumerSpec(
        durable="booking-flights",
        stream="AIRSIDE_FLIGHTS",
        filter_subject="airside.flight.status",
        handlers=flight_changes.HANDLERS,
    ),
    ConsumerSpec(
        durable="booking-lounge-visits",
        stream="AIRSIDE_LOUNGE",
        filter_subject="airside.lounge.visit.>",
        handlers=orders.HANDLERS,
    ),
    # Statements read carrier-paid visits and refusals, and booking's own completed partner orders
    # (docs/carriers.md "Statements"), on durables of their own.
    ConsumerSpec(
        durable="booking-settlement-lounge",
        stream="AIRSIDE_LOUNGE",
        filter_subject="airside.lounge.>",
        handlers=settlement.LOUNGE_HANDLERS,
    ),
    ConsumerSpec(
        durable="booking-settlement-orders",
        stream="AIRSIDE_BOOKING",
        filter_subject="airside.booking.order.completed",
        handlers=settlement.ORDER_HANDLERS,
    ),
]

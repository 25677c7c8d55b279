"""lounge's durable consumers, one per stream it reads, from the handlers of the packages that own
the effects and the platform's station and member copies (docs/architecture.md "The read path of
events"). The durable names and filters are deployed state: never rename one.
"""

from airside.copies import copy_handlers
from airside.messaging.streams import ConsumerSpec
from lounge.members.models import Member
from lounge.orders import consumers as orders
from lounge.stations import Station
from lounge.visits import consumers as visits

CONSUMERS: list[ConsumerSpec] = [
    ConsumerSpec(
        durable="lounge-booking",
        stream="AIRSIDE_BOOKING",
        filter_subject="airside.booking.>",
        handlers={**copy_handlers(stations=Station, members=Member), **orders.HANDLERS},
    ),
    ConsumerSpec(durable="lounge-flights", stream="AIRSIDE_FLIGHTS", filter_subject="airside.flight.status", handlers=visits.HANDLERS),
]

"""What lounge reads, as its durable consumers (docs/architecture.md "The read path of events"):
booking's stream for the station, member, order, carrier and contract copies, and the flights' status for the boarding
calls. The durable names and filters are deployed state: never rename one.
"""

from airside.copies import copy_handlers
from airside.messaging.streams import ConsumerSpec
from lounge.carriers import consumers as carriers
from lounge.members.models import Member
from lounge.orders import consumers as orders
from lounge.stations import Station
from lounge.visits import consumers as visits

FROM_BOOKING = copy_handlers(stations=Station, members=Member) | orders.HANDLERS | carriers.HANDLERS

CONSUMERS: list[ConsumerSpec] = [
    ConsumerSpec(durable="lounge-booking", stream="AIRSIDE_BOOKING", filter_subject="airside.booking.>", handlers=FROM_BOOKING),
    ConsumerSpec(durable="lounge-flights", stream="AIRSIDE_FLIGHTS", filter_subject="airside.flight.status", handlers=visits.HANDLERS),
]

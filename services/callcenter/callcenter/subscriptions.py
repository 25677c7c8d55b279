"""What the call center reads, as its durable consumers (docs/architecture.md "The read path of
events"): booking's stream for the station, member, order, carrier and contract copies and what orders
do to tickets and callbacks, and lounge's visit events for the visit copy. The durable names and filters are
deployed state: never rename one.
"""

from airside.copies import copy_handlers
from airside.messaging.streams import ConsumerSpec
from callcenter.carriers import consumers as carriers
from callcenter.members.models import Member
from callcenter.orders import consumers as orders
from callcenter.stations import Station
from callcenter.tickets import consumers as tickets

FROM_BOOKING = copy_handlers(stations=Station, members=Member) | orders.HANDLERS | carriers.HANDLERS

CONSUMERS: list[ConsumerSpec] = [
    ConsumerSpec(durable="callcenter-booking", stream="AIRSIDE_BOOKING", filter_subject="airside.booking.>", handlers=FROM_BOOKING),
    ConsumerSpec(durable="callcenter-lounge", stream="AIRSIDE_LOUNGE", filter_subject="airside.lounge.visit.>", handlers=tickets.HANDLERS),
]

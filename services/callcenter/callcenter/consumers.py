"""What callcenter takes from other services' streams."""

from airside.copies import copy_handlers
from airside.messaging.streams import ConsumerSpec
from callcenter.members.models import Member
from callcenter.orders.consumers import ORDER_HANDLERS, VISIT_HANDLERS
from callcenter.stations import Station

BOOKING = ConsumerSpec(
    durable="callcenter-booking",
    stream="AIRSIDE_BOOKING",
    filter_subject="airside.booking.>",
    handlers={
        **copy_handlers(stations=Station, members=Member),
        **ORDER_HANDLERS,
    },
)

LOUNGE = ConsumerSpec(
    durable="callcenter-lounge",
    stream="AIRSIDE_LOUNGE",
    filter_subject="airside.lounge.visit.>",
    handlers=VISIT_HANDLERS,
)

CONSUMERS = [BOOKING, LOUNGE]

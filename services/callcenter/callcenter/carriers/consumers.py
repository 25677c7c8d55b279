"""What the call center does on booking's carrier and contract events: keeps its copies, newest version wins.

callcenter.subscriptions runs these handlers on the durable consumer of booking's stream; the copies keep
the columns callcenter.carriers.models declares (airside.copies.carrier_copy_handlers).
"""

from airside.copies import carrier_copy_handlers
from airside.messaging.streams import Handler
from callcenter.carriers.models import Carrier, Contract

HANDLERS: dict[str, Handler] = carrier_copy_handlers(carriers=Carrier, contracts=Contract)

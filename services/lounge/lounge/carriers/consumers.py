"""What lounge does on booking's carrier and contract events: keeps its copies, newest version wins.

lounge.subscriptions runs these handlers on the durable consumer of booking's stream.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.copies import keep_newest
from airside.events import carriers as carrier_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from lounge.carriers.models import Carrier, Contract


async def on_carrier(session: AsyncSession, event: CloudEvent) -> None:
    carrier = carrier_events.carrier_upserted.parse(event).carrier
    await keep_newest(session, Carrier, carrier.model_dump(include={"designator", "name", "version"}), key="designator")


async def on_contract(session: AsyncSession, event: CloudEvent) -> None:
    contract = carrier_events.contract_upserted.parse(event).contract
    terms = [term.model_dump(mode="json") for term in contract.terms]  # kept whole, as JSON (lounge.carriers.models)
    await keep_newest(session, Contract, contract.model_dump(exclude={"settlement", "terms"}) | {"terms": terms})


HANDLERS: dict[str, Handler] = {
    carrier_events.carrier_upserted.type: on_carrier,
    carrier_events.contract_upserted.type: on_contract,
}

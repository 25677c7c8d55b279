"""What the call center does on lounge's visit events: keep the visit copy and link the tickets
recorded against the visit before it arrived.

callcenter.subscriptions runs this handler on the durable consumer of lounge's visit events.
"""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.copies import keep_newest
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from callcenter.copies import VisitCopy
from callcenter.tickets import records
from callcenter.tickets.models import Ticket
from callcenter.tickets.service import touch


async def on_visit(session: AsyncSession, event: CloudEvent) -> None:
    """Keep the visit copy (newest version wins) and link complaints recorded against it before it arrived."""
    visit = lounge_events.visit_checked_in.parse(event).visit
    values = {
        "id": visit.id,
        "station": visit.station,
        "lounge_id": visit.lounge_id,
        "member_id": visit.member_id,
        "order_id": visit.order_id,
        "status": visit.status,
        "checked_in_at": visit.checked_in_at,
        "version": visit.version,
    }
    await keep_newest(session, VisitCopy, values)
    if visit.member_id is None and visit.order_id is None:
        return
    unlinked = await session.execute(
        select(Ticket)
        .where(Ticket.visit_id == visit.id, or_(Ticket.member_id.is_(None), Ticket.order_id.is_(None)))  # type: ignore[union-attr]
        .with_for_update()
    )
    for ticket in list(unlinked.scalars()):
        # What create_ticket does when the copy is already there.
        ticket.member_id = ticket.member_id or visit.member_id
        ticket.order_id = ticket.order_id or visit.order_id
        touch(ticket, clock.now())
        records.log(session, ticket, "system", "visit_linked", visit_id=visit.id)


HANDLERS: dict[str, Handler] = {
    definition.type: on_visit
    for definition in (
        lounge_events.visit_checked_in,
        lounge_events.visit_checked_out,
        lounge_events.visit_boarding_call_due,
        lounge_events.visit_flight_changed,
    )
}

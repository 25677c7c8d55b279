"""Tickets from booking's order events: booking requests linked and resolved, disruptions, overdue confirmations."""

import uuid

from cc_support import new_station, open_ticket, order_snapshot, outbox, publish

from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, wait_for


async def ticket_of(client, headers, ticket_id):
    return (await client.get(f"/v1/tickets/{ticket_id}", headers=headers)).json()


async def order_tickets(client, headers, order_id):
    return (await client.get("/v1/tickets", params={"order_id": order_id}, headers=headers)).json()["items"]


async def test_journey_phone_booking_links_the_order_waits_and_resolves_on_confirmation(client, callcenter, nats_server):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    ticket = await open_ticket(client, staff, station, type="booking_request", subject="Escort + lounge CA1831")
    order = order_snapshot(station, source_ticket_id=ticket["id"])
    await publish(nats_server.url, booking_events.order_created, booking_events.OrderEvent(order=order), subject=order.id)

    async def waiting():
        current = await ticket_of(client, staff, ticket["id"])
        return current if current["status"] == "pending_customer" else None

    linked = await wait_for(waiting, timeout=5, what="the ticket waiting on the order")
    assert linked["order_id"] == order.id and linked["member_id"] == order.member_id
    confirmed = order.model_copy(update={"version": 2, "status": "confirmed"})
    await publish(nats_server.url, booking_events.order_confirmed, booking_events.OrderEvent(order=confirmed), subject=order.id)

    async def resolved():
        return (await ticket_of(client, staff, ticket["id"]))["status"] == "resolved"

    await wait_for(resolved, timeout=5, what="the booking request resolved")


async def test_one_disruption_ticket_per_order_raised_to_p1_by_a_cancellation(client, callcenter, nats_server):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    order = order_snapshot(station, status="confirmed")
    delayed = booking_events.OrderFlightDisrupted(order=order, delay_minutes=95, cancelled=False)
    await publish(nats_server.url, booking_events.order_flight_disrupted, delayed, subject=order.id)
    # The same event again under another id, then a cancellation.
    await publish(nats_server.url, booking_events.order_flight_disrupted, delayed, subject=order.id)
    cancelled = booking_events.OrderFlightDisrupted(order=order.model_copy(update={"version": 2}), delay_minutes=0, cancelled=True)
    await publish(nats_server.url, booking_events.order_flight_disrupted, cancelled, subject=order.id)

    async def noted():
        found = await order_tickets(client, staff, order.id)
        notes = (await client.get(f"/v1/tickets/{found[0]['id']}/notes", headers=staff)).json()["items"] if found else []
        return (found, notes) if len(notes) == 2 else None

    _, notes = await wait_for(noted, timeout=5, what="both later disruption events noted")
    # The tickets are read again: the cancellation's note and its raise commit together, and may have
    # committed between the read of the tickets and that of the notes.
    found = await order_tickets(client, staff, order.id)
    # Later events add a note and raise the priority; never a second ticket while it is open.
    assert [note["body"] for note in notes] == ["Flight CA1831 delayed 95 min", "Flight CA1831 cancelled"]
    assert len(found) == 1 and (found[0]["type"], found[0]["channel"], found[0]["origin"], found[0]["priority"]) == (
        "outbound",
        "system",
        "disruption",
        "P1",
    )
    # Once it is resolved, a new disruption may open a new one.
    await client.post(f"/v1/tickets/{found[0]['id']}/status", json={"status": "resolved"}, headers=staff)
    again = booking_events.OrderFlightDisrupted(order=order.model_copy(update={"version": 3}), delay_minutes=120, cancelled=False)
    await publish(nats_server.url, booking_events.order_flight_disrupted, again, subject=order.id)

    async def second():
        return len(await order_tickets(client, staff, order.id)) == 2

    await wait_for(second, timeout=5, what="a new disruption ticket after the first was resolved")


async def test_confirmation_overdue_opens_a_p1_resolved_by_confirmation(client, callcenter, nats_server):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    order = order_snapshot(station)
    for _ in range(2):
        await publish(nats_server.url, booking_events.order_confirmation_overdue, booking_events.OrderEvent(order=order), subject=order.id)

    async def raised():
        return await order_tickets(client, staff, order.id)

    found = await wait_for(raised, timeout=5, what="the overdue ticket")
    assert len(found) == 1 and (found[0]["priority"], found[0]["type"], found[0]["origin"]) == ("P1", "outbound", "confirmation_overdue")
    confirmed = order.model_copy(update={"version": 2, "status": "confirmed"})
    await publish(nats_server.url, booking_events.order_confirmed, booking_events.OrderEvent(order=confirmed), subject=order.id)

    async def resolved():
        return (await ticket_of(client, staff, found[0]["id"]))["status"] == "resolved"

    await wait_for(resolved, timeout=5, what="the overdue ticket resolved")
    assert len(await outbox(callcenter, "airside.callcenter.ticket.created", found[0]["id"])) == 1


async def test_a_complaint_about_a_visit_links_the_member_from_lounge_events(client, callcenter, nats_server):
    from airside.events import lounge as lounge_events

    station = await new_station(callcenter)
    visit_id, member_id = str(uuid.uuid4()), str(uuid.uuid4())
    visit = lounge_events.VisitSnapshot(
        id=visit_id,
        version=1,
        lounge_id="l1",
        station=station,
        member_id=member_id,
        order_id=None,
        flight_no="CA1831",
        flight_date="2030-03-06",
        guests=1,
        entitlement="member",
        status="checked_in",
        checked_in_at="2030-03-06T01:00:00Z",
    )
    await publish(nats_server.url, lounge_events.visit_checked_in, lounge_events.VisitEvent(visit=visit), subject=visit_id)

    async def copied():
        from callcenter.copies import VisitCopy

        async with callcenter.runtime.db.session() as session:
            return await session.get(VisitCopy, visit_id)

    await wait_for(copied, timeout=5, what="the visit copy")
    ticket = await open_ticket(client, auth("agent", stations=[station]), station, type="complaint", visit_id=visit_id)
    assert ticket["member_id"] == member_id

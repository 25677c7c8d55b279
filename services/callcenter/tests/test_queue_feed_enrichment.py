"""The queue feed's SLA due times (docs/feeds.md): read for an event once, and never for events taken while no
client is connected until a resuming client is sent them (each read is a session and a query; a claim makes
several events)."""

import asyncio

from cc_support import new_station, open_ticket

from airside_tools.testing.harness import auth, wait_for


async def test_an_event_no_client_is_sent_costs_no_read_and_one_sent_is_read_once(client, callcenter):
    hub = callcenter.runtime.feed
    original = hub.enrich
    reads: list[str] = []

    async def counting(event):
        reads.append(event.id)
        return await original(event)

    hub.enrich = counting
    try:
        station = await new_station(callcenter)
        ticket = await open_ticket(client, auth("agent", stations=[station]), station)

        def taken():
            return next((item for item in hub.window if item.event.subject == ticket["id"]), None)

        item = await wait_for(lambda: asyncio.sleep(0, taken()), timeout=10, what="the ticket's event in the feed's window")
        assert reads == [] and item.feed == {}
        first = await hub.complete(item)
        again = await hub.complete(item)
        assert reads == [item.event.id]
        assert first.feed == again.feed and first.feed["sla"]["first_response_due"] == ticket["first_response_due"]
    finally:
        hub.enrich = original

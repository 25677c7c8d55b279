"""The call center's queue feed and booking's order feeds (docs/feeds.md), read over real HTTP from the suite's set."""

from __future__ import annotations

from datetime import timedelta

from e2e_steps import Airside, Flight, member_token, now, staff

from airside_tools.testing.feeds import FeedReader, about

ASSIGNED = "airside.callcenter.ticket.assigned"
CREATED = "airside.callcenter.ticket.created"
ORDER_ASSIGNED = "airside.booking.order.assigned"
ORDER_CONFIRMED = "airside.booking.order.confirmed"


async def test_a_ticket_claimed_by_another_agent_leaves_the_agents_queue(airside: Airside):
    _, mine = await airside.callcenter.new_agent("PEK")
    _, colleague = await airside.callcenter.new_agent("PEK")
    queue = f"{airside.callcenter.url}/v1/queue/stream"
    async with FeedReader(airside.http, queue, mine) as feed, FeedReader(airside.http, queue, staff("supervisor")) as whole:
        ticket = await airside.callcenter.open_ticket(type="inquiry", subject="Where is the lounge?")
        entered = await feed.frame(about(CREATED, "ticket", ticket["id"]))
        assert "leaves" not in entered.data["feed"], entered.data
        assert entered.data["feed"]["sla"]["first_response_due"] is not None, "the console counts down from it"
        elsewhere = await airside.callcenter.open_ticket(type="inquiry", subject="Kunming", station="KMG", by=staff("agent", "KMG"))

        claimed = await airside.callcenter.claim(colleague)
        assert claimed is not None
        gone = await feed.frame(about(ASSIGNED, "ticket", claimed["id"]))
        assert gone.data["feed"]["leaves"] is True, "claimed by someone else: out of this agent's queue"
        kept = await whole.frame(about(ASSIGNED, "ticket", claimed["id"]))
        assert "leaves" not in kept.data["feed"], "a supervisor watches the whole queue of the station"
        assert elsewhere["id"] not in {frame.data["data"]["ticket"]["id"] for frame in (*feed.changes, *whole.changes)}


async def test_a_concierge_sees_only_their_own_orders_and_a_member_only_theirs(airside: Airside):
    meet_at = now() + timedelta(hours=2)
    ours, theirs = [await airside.on_duty_concierge(meet_at, name=name) for name in ("礼宾 甲", "礼宾 乙")]
    member, other = [await airside.booking.register_member(name) for name in ("Feed Owner", "Feed Other")]
    flight = Flight.departing(now() + timedelta(hours=4))
    station = f"{airside.booking.url}/v1/stations/PEK/orders/stream"
    async with (
        FeedReader(airside.http, station, ours.headers) as concierge,
        FeedReader(airside.http, station, staff("concierge_lead")) as lead,
    ):
        first = await airside.booking.book(member, flight, meet_at=meet_at)
        second = await airside.booking.book(other, flight, meet_at=meet_at)
        order_feed = f"{airside.booking.url}/v1/orders/{first['id']}/stream"
        async with FeedReader(airside.http, order_feed, member_token(member)) as owner:
            for order in (first, second):
                await airside.booking.confirm(order)
            await airside.booking.assign(first, ours)
            await airside.booking.assign(second, theirs)
            await owner.frame(about(ORDER_ASSIGNED, "order", first["id"]))
            assert {frame.data["data"]["order"]["id"] for frame in owner.changes} == {first["id"]}
            steps = [frame.event for frame in owner.changes if frame.event in (ORDER_CONFIRMED, ORDER_ASSIGNED)]
            assert steps == [ORDER_CONFIRMED, ORDER_ASSIGNED]
        for refused in (member_token(other), staff("agent", "KMG")):
            async with FeedReader(airside.http, order_feed, refused) as feed:
                assert feed.status == 404, feed.body  # someone else's order is not found, as GET /v1/orders/{id} answers

        await lead.frame(about(ORDER_ASSIGNED, "order", second["id"]))
        await concierge.frame(about(ORDER_ASSIGNED, "order", first["id"]))
        assert {frame.data["data"]["order"]["id"] for frame in lead.changes} >= {first["id"], second["id"]}
        # The concierge's view starts at their own assignment: the bookings and the other order never showed.
        assert {frame.data["data"]["order"]["id"] for frame in concierge.changes} == {first["id"]}
        await airside.booking.cancel(first, "plans changed")
        await airside.booking.cancel(second, "plans changed")
    async with FeedReader(airside.http, station.replace("PEK", "KMG"), staff("concierge_lead")) as feed:
        assert feed.status == 403, feed.body  # another station's orders

"""Conditional GET over HTTP: every single-resource GET answers a strong ETag and 304 to If-None-Match, and the
agents' queue (the ticket search an agent console polls) answers 304 while it reads the same (docs/http.md)."""

import random
import string
import uuid
from datetime import UTC, date, datetime

from cc_support import new_station, open_ticket, order_snapshot, publish

from airside.events import booking as booking_events
from airside_tools.testing.conditional_get import (
    assert_a_patch_gives_a_new_etag,
    assert_conditional_get,
    declares_conditional_get,
    single_resource_gets,
)
from airside_tools.testing.harness import auth, wait_for
from callcenter.carriers.models import Carrier, Contract


async def a_member_copy(client, nats_url: str, headers: dict[str, str]) -> str:
    member_id = str(uuid.uuid4())
    snapshot = booking_events.MemberSnapshot(
        id=member_id, card_no=f"AS{member_id[:8]}", name="陈静", phone="+8613900001111", tier="vip", version=1, updated_at=datetime.now(UTC)
    )
    await publish(nats_url, booking_events.member_registered, booking_events.MemberEvent(member=snapshot), subject=member_id)

    async def copied() -> bool:
        return (await client.get(f"/v1/members/{member_id}", headers=headers)).status_code == 200

    await wait_for(copied, timeout=5, what="the member copy")
    return member_id


async def a_callback(client, nats_url: str, station: str, headers: dict[str, str]) -> dict:
    order = order_snapshot(station, status="completed", version=5)
    await publish(nats_url, booking_events.order_completed, booking_events.OrderCompleted(order=order), subject=order.id)

    async def made() -> dict | None:
        items = (await client.get("/v1/callbacks", params={"order_id": order.id}, headers=headers)).json()["items"]
        return items[0] if items else None

    return await wait_for(made, timeout=5, what="the callback")


async def a_carrier_copy(callcenter, station: str) -> str:
    designator = f"{station[0]}{random.choice(string.digits)}"
    async with callcenter.runtime.db.session() as session:
        if await session.get(Carrier, designator) is None:
            session.add(Carrier(designator=designator, name="Conditional Air", version=1))
            session.add(
                Contract(
                    id=f"ctr_{uuid.uuid4().hex[:16]}",
                    carrier=designator,
                    station=station,
                    valid_from=date(2030, 3, 1),
                    status="active",
                    version=1,
                )
            )
            await session.commit()
    return designator


async def test_every_single_resource_get_gives_an_etag_and_honours_if_none_match(client, callcenter, nats_server):
    document = (await client.get("/openapi.json")).json()
    station = await new_station(callcenter)
    agent = auth("agent", stations=[station])
    ticket = await open_ticket(client, agent, station)
    samples = {
        "/v1/members/{member_id}": f"/v1/members/{await a_member_copy(client, nats_server.url, agent)}",
        "/v1/sla-policies/{priority}": "/v1/sla-policies/P2",
        "/v1/tickets/{ticket_id}": f"/v1/tickets/{ticket['id']}",
        "/v1/callbacks/{callback_id}": f"/v1/callbacks/{(await a_callback(client, nats_server.url, station, agent))['id']}",
        "/v1/carriers/{designator}": f"/v1/carriers/{await a_carrier_copy(callcenter, station)}",
    }
    assert sorted(samples) == single_resource_gets(document)  # a new route needs a sample here
    samples["/v1/stations/{code}/calendar"] = f"/v1/stations/{station}/calendar"  # one record, the station's calendar
    for route, path in samples.items():
        assert declares_conditional_get(document["paths"][route]["get"]), route
        await assert_conditional_get(client, path, agent)


async def test_the_agents_queue_answers_304_until_a_ticket_arrives_or_changes(client, callcenter):
    document = (await client.get("/openapi.json")).json()
    assert declares_conditional_get(document["paths"]["/v1/tickets"]["get"])
    station = await new_station(callcenter)
    agent = auth("agent", stations=[station])
    first = await open_ticket(client, agent, station)
    queue = {"station": station, "status": first["status"]}
    polled = await client.get("/v1/tickets", params=queue, headers=agent)
    assert [item["id"] for item in polled.json()["items"]] == [first["id"]]
    tag = polled.headers["etag"]
    again = await client.get("/v1/tickets", params=queue, headers={**agent, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    second = await open_ticket(client, agent, station)
    arrived = await client.get("/v1/tickets", params=queue, headers={**agent, "If-None-Match": tag})
    assert arrived.status_code == 200 and {item["id"] for item in arrived.json()["items"]} == {first["id"], second["id"]}
    assert arrived.headers["etag"] != tag
    if_match = {**agent, "If-Match": (await client.get(f"/v1/tickets/{first['id']}", headers=agent)).headers["etag"]}
    assert (await client.patch(f"/v1/tickets/{first['id']}", json={"subject": "Lounge hours, PEK T3"}, headers=if_match)).status_code == 200
    changed = await client.get("/v1/tickets", params=queue, headers={**agent, "If-None-Match": arrived.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != arrived.headers["etag"]
    assert "Lounge hours, PEK T3" in {item["subject"] for item in changed.json()["items"]}


async def test_a_tickets_etag_is_the_one_its_patch_takes_and_a_patch_gives_a_new_one(client, callcenter):
    station = await new_station(callcenter)
    agent = auth("agent", stations=[station])
    ticket = await open_ticket(client, agent, station)
    _read, after = await assert_a_patch_gives_a_new_etag(client, f"/v1/tickets/{ticket['id']}", agent, {"priority": "P1"})
    assert after.json()["priority"] == "P1"


async def test_a_members_search_for_someone_elses_tickets_is_an_empty_page_with_its_etag(client):
    member = auth("member", member_id=str(uuid.uuid4()))
    empty = await client.get("/v1/tickets", params={"member_id": str(uuid.uuid4())}, headers=member)
    assert empty.status_code == 200 and empty.json() == {"items": [], "next_cursor": None}
    polled = {**member, "If-None-Match": empty.headers["etag"]}
    again = await client.get("/v1/tickets", params={"member_id": str(uuid.uuid4())}, headers=polled)
    assert again.status_code == 304 and again.content == b""

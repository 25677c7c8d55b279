"""The call center's member copy: filled from booking's events, found by the caller's phone."""

import uuid
from datetime import UTC, datetime

import nats

from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, wait_for

AGENT = auth("agent", stations=["PEK"])


async def publish_member(nats_url: str, member_id: str, phone: str) -> None:
    snapshot = booking_events.MemberSnapshot(
        id=member_id, card_no=f"AS{member_id[:8]}", name="陈静", phone=phone, tier="vip", version=1, updated_at=datetime.now(UTC)
    )
    event = booking_events.member_registered.build(booking_events.MemberEvent(member=snapshot), subject=member_id, source="airside/booking")
    nc = await nats.connect(nats_url)
    await nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    await nc.close()


async def test_a_registered_member_is_found_by_id_and_by_phone(client, nats_server):
    member_id = str(uuid.uuid4())
    phone = f"+861390000{uuid.uuid4().int % 10000:04d}"
    await publish_member(nats_server.url, member_id, phone)

    async def copied():
        return (await client.get(f"/v1/members/{member_id}", headers=AGENT)).status_code == 200

    await wait_for(copied, timeout=5, what="the member copy")
    member = (await client.get(f"/v1/members/{member_id}", headers=AGENT)).json()
    assert (member["name"], member["phone"], member["tier"]) == ("陈静", phone, "vip")
    found = (await client.get("/v1/members", params={"phone": phone.replace("+86", "+86 ")}, headers=AGENT)).json()["items"]
    assert [match["id"] for match in found] == [member_id]


async def test_lookup_refuses_a_bad_phone_and_other_roles(client):
    bad = await client.get("/v1/members", params={"phone": "12345"}, headers=AGENT)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.phone"
    assert (await client.get("/v1/members/x", headers=auth("lounge_staff"))).status_code == 403
    assert (await client.get("/v1/members/x", headers=auth("member", member_id="x"))).status_code == 403

"""Lounge's copy of members, built from booking's events, with the entitlement reception needs."""

import uuid
from datetime import UTC, datetime

import nats

from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, wait_for

STAFF = auth("lounge_staff", stations=["PEK"])


async def publish_member(nats_url: str, member_id: str, *, version: int, tier: str, name: str = "Li Wei") -> None:
    snapshot = booking_events.MemberSnapshot(
        id=member_id,
        card_no=f"AS{member_id[:8]}",
        name=name,
        phone="+8613800138000",
        tier=tier,
        version=version,
        updated_at=datetime.now(UTC),
    )
    definition = booking_events.member_registered if version == 1 else booking_events.member_updated
    event = definition.build(booking_events.MemberEvent(member=snapshot), subject=member_id, source="airside/booking")
    nc = await nats.connect(nats_url)
    await nc.jetstream().publish(definition.subject, event.to_json(), headers={"Nats-Msg-Id": event.id})
    await nc.close()


async def test_member_copy_appears_with_entitlement_and_never_moves_backwards(client, nats_server):
    member_id = str(uuid.uuid4())
    assert (await client.get(f"/v1/members/{member_id}", headers=STAFF)).status_code == 404

    await publish_member(nats_server.url, member_id, version=2, tier="platinum", name="Newer")
    await publish_member(nats_server.url, member_id, version=1, tier="standard", name="Older")

    async def copied():
        response = await client.get(f"/v1/members/{member_id}", headers=STAFF)
        return response.json() if response.status_code == 200 else None

    member = await wait_for(copied, timeout=5, what="the member copy")
    marker = str(uuid.uuid4())
    await publish_member(nats_server.url, marker, version=1, tier="gold")
    await wait_for(lambda: _exists(client, marker), timeout=5, what="a later event")

    member = (await client.get(f"/v1/members/{member_id}", headers=STAFF)).json()
    assert (member["version"], member["name"], member["tier"]) == (2, "Newer", "platinum")
    assert member["entitlement"] == {"free_entry": True, "guest_allowance": 2}
    assert "phone" not in member


async def _exists(client, member_id: str) -> bool:
    return (await client.get(f"/v1/members/{member_id}", headers=STAFF)).status_code == 200


async def test_standard_members_pay_and_bring_no_free_guests(client, nats_server):
    member_id = str(uuid.uuid4())
    await publish_member(nats_server.url, member_id, version=1, tier="standard")
    await wait_for(lambda: _exists(client, member_id), timeout=5, what="the member copy")
    member = (await client.get(f"/v1/members/{member_id}", headers=STAFF)).json()
    assert member["entitlement"] == {"free_entry": False, "guest_allowance": 0}


async def test_members_cannot_read_the_copy(client):
    assert (await client.get("/v1/members/x", headers=auth("member", member_id="x"))).status_code == 403

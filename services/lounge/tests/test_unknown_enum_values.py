"""Values lounge does not know yet in booking's and airlines' events (issue 13 item 3, docs/events.md
Versioning): the event is applied with that field unchanged, never parked, and the value logged once."""

import logging
import uuid
from datetime import UTC, datetime, timedelta

from lounge_support import ADMIN, PEK_STAFF, a_flight, a_member, flight_known, flight_number, publish_event

from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside_tools.testing.harness import wait_for


def flight_status_event(number: str, std: datetime, updated_at: datetime, status: str, **fields: str):
    """A flight status as a newer airline system sends it: built as today's, then given a status of its own."""
    payload = flight_events.FlightStatusChanged(
        carrier="CA",
        number=number,
        flight_date=std.date(),
        origin="PEK",
        destination="KMG",
        status="scheduled",
        updated_at=updated_at,
        std=std,
    )
    event = flight_events.flight_status.build(payload, subject=f"CA{number}/{std.date()}", source="airline/ops")
    event.data.update(status=status, **fields)
    return event


def member_event(member_id: str, version: int, tier: str, name: str):
    snapshot = booking_events.MemberSnapshot(
        id=member_id,
        card_no=f"AS{member_id[:8]}",
        name=name,
        phone="+8613800138000",
        tier="gold",
        version=version,
        updated_at=datetime.now(UTC),
    )
    definition = booking_events.member_registered if version == 1 else booking_events.member_updated
    event = definition.build(booking_events.MemberEvent(member=snapshot), subject=member_id, source="airside/booking")
    event.data["member"]["tier"] = tier
    return event


async def parked_letters(client, needle: str) -> list[dict]:
    letters = (await client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)).json()["items"]
    return [letter for letter in letters if needle in letter["payload"]]


async def test_an_unknown_flight_status_changes_no_status_the_rest_applies_and_it_is_logged_once(client, nats_server, caplog):
    caplog.set_level(logging.WARNING, logger="airside.events")
    std = datetime(2031, 6, 1, 2, 0, tzinfo=UTC)
    t0 = datetime.now(UTC)
    flight_no, flight_date = await a_flight(client, nats_server.url, std, status="delayed", gate="E12", updated_at=t0)
    etd = std + timedelta(minutes=70)
    for minutes, gate in ((1, "F1"), (2, "F2")):
        await publish_event(
            nats_server.url, flight_status_event(flight_no[2:], std, t0 + timedelta(minutes=minutes), "diverted", gate=gate)
        )
    # A flight first heard of with an unknown status is copied as scheduled.
    unheard = flight_number()
    await publish_event(nats_server.url, flight_status_event(unheard, std, t0, "diverted", etd=etd.isoformat()))

    flight = await wait_for(lambda: flight_known(client, flight_no, flight_date, gate="F2"), timeout=5, what="both events applied")
    assert flight["status"] == "delayed"
    new = await wait_for(lambda: flight_known(client, f"CA{unheard}", flight_date), timeout=5, what="the new flight copied")
    assert new["status"] == "scheduled" and datetime.fromisoformat(new["etd"]) == etd
    assert await parked_letters(client, "diverted") == []
    logged = [record.getMessage() for record in caplog.records if record.name == "airside.events" and "'diverted'" in record.getMessage()]
    assert len(logged) == 1 and "airside.flight.status" in logged[0], logged


async def test_an_unknown_tier_changes_no_tier_and_a_member_first_copied_with_one_is_standard(client, nats_server):
    member_id = await a_member(client, nats_server.url, tier="gold")
    await publish_event(nats_server.url, member_event(member_id, 2, "diamond", "Li Wei (renamed)"))
    newcomer = str(uuid.uuid4())
    await publish_event(nats_server.url, member_event(newcomer, 1, "diamond", "Zhang Min"))

    async def copied(member: str, version: int) -> dict | None:
        response = await client.get(f"/v1/members/{member}", headers=PEK_STAFF)
        return response.json() if response.status_code == 200 and response.json()["version"] == version else None

    updated = await wait_for(lambda: copied(member_id, 2), timeout=5, what="the update copied")
    assert (updated["tier"], updated["name"]) == ("gold", "Li Wei (renamed)")
    first = await wait_for(lambda: copied(newcomer, 1), timeout=5, what="the newcomer copied")
    assert (first["tier"], first["name"]) == ("standard", "Zhang Min")
    assert await parked_letters(client, "diamond") == []

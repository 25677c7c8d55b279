"""Parking never loses an event (docs/events.md rule 3, docs/testing.md R9): a consumer that cannot write its dead
letter naks the message, which comes back until it can. A real nats-server and a PostgreSQL server of
the test's own, stopped with pg_ctl while the events arrive."""

import asyncio
import dataclasses
import uuid

import nats
from conftest import PROBE, Switch
from prometheus_client import REGISTRY
from sqlmodel import SQLModel

from airside.db.database import Database
from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, in_process, nats_under, settings_for_test, wait_for

ADMIN = auth("admin", stations=["*"])
DOWN_PROBE = dataclasses.replace(PROBE, name="probe-db-down")
CONSUMER = "probe-stations"


def retried() -> float:
    labels = {"service": DOWN_PROBE.name, "consumer": CONSUMER, "outcome": "retried"}
    return REGISTRY.get_sample_value("airside_consumer_events_total", labels) or 0.0


async def publish(nats_url: str, data: bytes) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(booking_events.station_upserted.subject, data, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await nc.close()


def station_event(code: str, name: str) -> bytes:
    payload = booking_events.StationUpserted(code=code, name=name, timezone="UTC")
    return booking_events.station_upserted.build(payload, subject=code, source="airside/test").to_json()


def refused_event(code: str) -> bytes:
    """A station event whose payload does not parse: refused by the handler, parked at once once it runs."""
    event = booking_events.station_upserted.build(
        booking_events.StationUpserted(code=code, name="x", timezone="UTC"), subject=code, source="airside/test"
    )
    event.data = {"code": code}
    return event.to_json()


async def test_every_event_to_be_parked_while_the_database_refuses_writes_comes_back_and_is_parked(own_postgres, tmp_path):
    """Bytes that are no event (parked at their first delivery), a payload that does not parse, and an
    event whose handler fails to the bound: with the database stopped none is terminated unparked."""
    bound = 3
    garbage_marker, refused_code, broken_code = uuid.uuid4().hex, uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    Switch.broken_names.add("Broken while the database is down")
    with nats_under(tmp_path) as server:
        settings = settings_for_test(
            DOWN_PROBE, database_url=own_postgres.create_database("probe_down"), nats_url=server.url, migrate_on_start=False
        )
        assert settings.dead_letter_after == bound
        db = Database(settings.database_url)
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        await db.dispose()
        try:
            async with in_process(DOWN_PROBE, settings) as probe:
                await asyncio.to_thread(own_postgres.stop)
                before = retried()
                await publish(server.url, f'{{"garbage": "{garbage_marker}"}}'.encode())
                await publish(server.url, refused_event(refused_code))
                await publish(server.url, station_event(broken_code, "Broken while the database is down"))
                # Each is delivered past the bound while the database is away: every park attempt failed and naked.
                await wait_for(
                    lambda: asyncio.sleep(0, retried() - before >= 3 * (bound + 2)), timeout=30, what="deliveries past the bound"
                )
                await asyncio.to_thread(own_postgres.start)

                async def parked() -> list[dict] | None:
                    response = await probe.client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)
                    if response.status_code != 200:
                        return None  # the pool meeting the restarted server
                    ours = [letter for letter in response.json()["items"] if any(key in letter["payload"] for key in keys)]
                    return ours if len(ours) == 3 else None

                keys = (garbage_marker, refused_code, broken_code)
                letters = {
                    key: letter
                    for letter in await wait_for(parked, timeout=30, what="all three parked")
                    for key in keys
                    if key in letter["payload"]
                }
                assert letters[garbage_marker]["num_delivered"] > 1 and letters[garbage_marker]["event_id"] is None
                assert "payload invalid" in letters[refused_code]["error"]
                assert letters[broken_code]["num_delivered"] > bound and "cannot take Broken" in letters[broken_code]["error"]
                assert (await probe.client.get(f"/v1/tallies/{broken_code}")).json()["applied"] == 0
        finally:
            Switch.broken_names.discard("Broken while the database is down")

"""An event the relay cannot publish holds back every later one (commit order, docs/events.md rule 1)
until ops set it aside: it moves to the dead letters, the events behind it go out, and a replay publishes
it once the stream takes it. A real nats-server of the test's own and a real database."""

import asyncio
import dataclasses
import uuid

import nats
from conftest import PROBE, probe_settings_on
from sqlalchemy import select

from airside.events import booking as booking_events
from airside.messaging.outbox import OutboxEvent, outbox_values, wake_relays
from airside_tools.testing.harness import auth, in_process, nats_under, wait_for

ADMIN = auth("admin", stations=["*"])
SET_ASIDE_PROBE = dataclasses.replace(PROBE, name="probe-set-aside")


async def applied(probe, code: str) -> int:
    return (await probe.client.get(f"/v1/tallies/{code}")).json()["applied"]


async def outbox_row(probe, event_id: str) -> OutboxEvent | None:
    async with probe.runtime.db.session() as session:
        return (await session.execute(select(OutboxEvent).where(OutboxEvent.event_id == event_id))).scalars().first()


async def failed_at_least(probe, event_id: str, attempts: int) -> bool:
    row = await outbox_row(probe, event_id)
    return row is not None and row.attempts >= attempts


async def test_an_event_the_stream_refuses_is_set_aside_and_the_events_behind_it_go_out(databases, tmp_path):
    with nats_under(tmp_path) as server:
        settings = await probe_settings_on(databases, server.url, "probe_set_aside")
        async with in_process(SET_ASIDE_PROBE, settings) as probe:
            # A poison event: its subject is held by no stream, so every publish of it is refused.
            payload = booking_events.StationUpserted(code="XXX", name="Nowhere", timezone="UTC")
            values, poison = outbox_values(booking_events.station_upserted, payload, subject="XXX")
            async with probe.runtime.db.session() as session:
                session.add(OutboxEvent(**{**values, "subject": "airside.nowhere.station.upserted"}))
                await session.commit()
            wake_relays()
            code = uuid.uuid4().hex[:8]
            behind = (await probe.client.post(f"/v1/stations/{code}", params={"name": "Behind"})).json()["event_id"]
            await wait_for(lambda: failed_at_least(probe, poison.id, 2), timeout=15, what="the poison event failing twice")
            assert await applied(probe, code) == 0, "commit order: nothing goes out past the event that fails"

            waiting = await probe.client.post(f"/v1/ops/outbox/{behind}/set-aside", headers=ADMIN)
            assert waiting.status_code == 409 and waiting.json()["type"] == "/problems/not_failing"
            assert (await probe.client.post(f"/v1/ops/outbox/{uuid.uuid4()}/set-aside", headers=ADMIN)).status_code == 404
            assert (await probe.client.post(f"/v1/ops/outbox/{poison.id}/set-aside")).status_code == 401

            set_aside = await probe.client.post(f"/v1/ops/outbox/{poison.id}/set-aside", headers=ADMIN)
            assert set_aside.status_code == 200, set_aside.text
            letter = set_aside.json()
            assert letter["consumer"] == "outbox-relay" and letter["status"] == "parked" and letter["event_id"] == poison.id
            assert "no stream holds" in letter["error"] and letter["num_delivered"] >= 2
            assert await outbox_row(probe, poison.id) is None
            await wait_for(lambda: applied(probe, code), timeout=15, what="the event behind it published and applied")

            refused = await probe.client.post(f"/v1/ops/dead-letters/{letter['id']}/replay", headers=ADMIN)
            assert refused.status_code == 409 and refused.json()["type"] == "/problems/replay_failed"
            listed = (await probe.client.get("/v1/ops/dead-letters", params={"status": "parked"}, headers=ADMIN)).json()["items"]
            assert letter["id"] in {parked["id"] for parked in listed}, "a refused replay leaves it parked"

            # An event refused because its stream was gone (deleted by hand, say), set aside then, is published by
            # its replay once the stream is back (declared again when the service reconnects).
            nc = await nats.connect(server.url)
            await nc.jetstream().delete_stream("AIRSIDE_BOOKING")
            await nc.close()
            later = uuid.uuid4().hex[:8]
            away = (await probe.client.post(f"/v1/stations/{later}", params={"name": "Streamless"})).json()["event_id"]
            await wait_for(lambda: failed_at_least(probe, away, 1), timeout=15, what="a publish refused for want of its stream")
            parked = (await probe.client.post(f"/v1/ops/outbox/{away}/set-aside", headers=ADMIN)).json()
            assert parked["consumer"] == "outbox-relay", parked
            server.stop()
            server.start()

            async def replayed() -> dict | None:
                answer = await probe.client.post(f"/v1/ops/dead-letters/{parked['id']}/replay", headers=ADMIN)
                return answer.json() if answer.status_code == 200 else None  # 409 until reconnected and the stream declared

            assert (await wait_for(replayed, timeout=20, what="the replay publishing it"))["status"] == "replayed"
            await wait_for(lambda: applied(probe, later), timeout=15, what="the replayed event applied")
            # A second replay publishes it under the same id: the stream and the inbox keep it to one effect.
            assert (await probe.client.post(f"/v1/ops/dead-letters/{parked['id']}/replay", headers=ADMIN)).status_code == 200
            await asyncio.sleep(1)
            assert await applied(probe, later) == 1

"""`POST /v1/ops/republish` puts the events into the stream again even inside JetStream's duplicate
window, says how many the stream took, and consumers apply nothing twice. Real nats-server and database."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import nats
from prometheus_client import REGISTRY
from test_relay_order import applied, stream_order

from airside_tools.testing.harness import auth, wait_for

ADMIN = auth("admin", stations=["*"])


async def consumer_caught_up(nats_url: str) -> bool:
    """The probe's consumer has acknowledged every message of the stream (applied, skipped or parked)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        last = (await js.stream_info("AIRSIDE_BOOKING")).state.last_seq
        info = await js.consumer_info("AIRSIDE_BOOKING", "probe-stations")
        return info.ack_floor.stream_seq == last and not info.num_ack_pending
    finally:
        await nc.close()


def duplicates_skipped() -> float:
    labels = {"service": "probe", "consumer": "probe-stations", "outcome": "duplicate"}
    return REGISTRY.get_sample_value("airside_consumer_events_total", labels) or 0.0


async def test_a_republish_inside_the_duplicate_window_reaches_the_stream_and_doubles_no_effect(probe, nats_server):
    since = datetime.now(UTC) - timedelta(milliseconds=1)
    codes = [uuid.uuid4().hex[:8] for _ in range(3)]
    events = [(await probe.client.post(f"/v1/stations/{code}", params={"name": "Again"})).json()["event_id"] for code in codes]

    async def all_applied() -> bool:
        return all([await applied(probe, code) == 1 for code in codes])

    await wait_for(all_applied, timeout=10, what="the first publication applied")
    skipped = duplicates_skipped()

    for round_ in (2, 3):  # right after the first publication, and right after the first republish
        answer = await probe.client.post("/v1/ops/republish", json={"since": since.isoformat()}, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["marked"] >= len(events) and body == {"marked": body["marked"], "published": body["marked"], "pending": 0}
        assert Counter(await stream_order(nats_server.url, "AIRSIDE_BOOKING", events)) == dict.fromkeys(events, round_)

    await wait_for(lambda: consumer_caught_up(nats_server.url), timeout=10, what="the consumer through the republished events")
    assert [await applied(probe, code) for code in codes] == [1, 1, 1]
    assert duplicates_skipped() - skipped >= 2 * len(events)  # delivered again, skipped by the inbox


async def test_a_republish_while_nats_is_away_says_nothing_was_published_yet(probe, nats_server):
    since = datetime.now(UTC) - timedelta(milliseconds=1)
    code = uuid.uuid4().hex[:8]
    event_id = (await probe.client.post(f"/v1/stations/{code}", params={"name": "Away"})).json()["event_id"]
    await wait_for(lambda: applied(probe, code), timeout=10, what="the event applied")
    nats_server.kill()
    try:
        await wait_for(lambda: _disconnected(probe), timeout=10, what="the service noticing NATS is gone")
        answer = await probe.client.post("/v1/ops/republish", json={"since": since.isoformat(), "wait_seconds": 0.5}, headers=ADMIN)
        assert answer.json() == {"marked": 1, "published": 0, "pending": 1}
    finally:
        nats_server.start()

    async def published_twice() -> bool:
        return Counter(await stream_order(nats_server.url, "AIRSIDE_BOOKING", [event_id]))[event_id] == 2

    await wait_for(published_twice, timeout=20, what="the pending republish published once NATS is back")
    await wait_for(lambda: consumer_caught_up(nats_server.url), timeout=10, what="the consumer through it")
    assert await applied(probe, code) == 1


async def _disconnected(probe) -> bool:
    return not probe.runtime.bus.connected

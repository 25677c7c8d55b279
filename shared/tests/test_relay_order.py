"""The relay publishes in commit order (docs/events.md rule 1): an event it cannot publish holds back every
event committed after it, with a real nats-server refusing it and a real database."""

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
from conftest import PROBE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.js.errors import NotFoundError
from sqlalchemy import select, update
from sqlmodel import SQLModel

from airside.db.database import Database
from airside.events import booking as booking_events
from airside.messaging.outbox import OutboxEvent, outbox_row, wake_relays
from airside.messaging.streams import ensure_streams
from airside_tools.testing.harness import InProcessService, in_process, nats_under, settings_for_test, wait_for

STATIONS = booking_events.station_upserted.subject
NOWHERE = "airside.nowhere.station.upserted"  # no stream holds it


async def announce(probe: InProcessService, code: str) -> str:
    return (await probe.client.post(f"/v1/stations/{code}", params={"name": "In order"})).json()["event_id"]


async def record_with_subject(probe: InProcessService, code: str, subject: str) -> str:
    """A station event committed to the outbox under `subject`: what a bug or a lost stream leaves there."""
    row, event = outbox_row(
        booking_events.station_upserted, booking_events.StationUpserted(code=code, name="Head", timezone="UTC"), subject=code
    )
    row.subject = subject
    async with probe.runtime.db.session() as session:
        session.add(row)
        await session.commit()
    wake_relays()
    return event.id


async def rows(probe: InProcessService, event_ids: list[str]) -> dict[str, OutboxEvent]:
    async with probe.runtime.db.session() as session:
        found = (await session.execute(select(OutboxEvent).where(OutboxEvent.event_id.in_(event_ids)))).scalars().all()  # type: ignore[attr-defined]
    return {row.event_id: row for row in found}


async def stream_order(nats_url: str, stream: str, event_ids: list[str]) -> list[str]:
    """The CloudEvent ids among `event_ids` in the order the stream holds them, one entry per message."""
    wanted = set(event_ids)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(stream)).state
        found = []
        for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
            try:
                message = await js.get_msg(stream, seq)
            except NotFoundError:
                continue  # a gap the stream left
            try:
                event_id = json.loads(message.data or b"")["id"]
            except (ValueError, KeyError, TypeError):
                continue  # bytes that are no event, from another test
            if event_id in wanted:
                found.append(event_id)
        return found
    finally:
        await nc.close()


async def applied(probe: InProcessService, code: str) -> int:
    return (await probe.client.get(f"/v1/tallies/{code}")).json()["applied"]


async def attempted(probe: InProcessService, event_id: str, times: int) -> bool:
    return (await rows(probe, [event_id]))[event_id].attempts >= times


async def test_an_event_whose_subject_no_stream_holds_holds_back_every_later_event(probe, nats_server):
    head_code, later_codes = uuid.uuid4().hex[:8], [uuid.uuid4().hex[:8] for _ in range(3)]
    head = await record_with_subject(probe, head_code, NOWHERE)
    later = [await announce(probe, code) for code in later_codes]
    try:
        # Tried twice (the second time alone, as a failed event goes): the events after it are still unpublished.
        await wait_for(lambda: attempted(probe, head, 2), timeout=10, what="the relay retrying the unpublishable event")
        held = await rows(probe, later)
        assert [held[event_id].published_at for event_id in later] == [None, None, None]
        assert [held[event_id].attempts for event_id in later] == [0, 0, 0]  # held back, never sent
        assert await stream_order(nats_server.url, "AIRSIDE_BOOKING", later) == []
        assert "no stream holds subject" in (await rows(probe, [head]))[head].last_error
        assert (await probe.client.get("/readyz")).json()["outbox"]["pending"] >= 4  # the backlog shows it
    finally:
        async with probe.runtime.db.session() as session:  # the cause mended, as ops would
            await session.execute(update(OutboxEvent).where(OutboxEvent.event_id == head).values(subject=STATIONS))
            await session.commit()

    async def all_applied() -> bool:
        return all([await applied(probe, code) == 1 for code in [head_code, *later_codes]])

    await wait_for(all_applied, timeout=15, what="the held events published once the first one could be")
    assert await stream_order(nats_server.url, "AIRSIDE_BOOKING", [head, *later]) == [head, *later]


# --- a stream the server refuses to write to, on a nats-server of the test's own --------------------

ORDER_PROBE = dataclasses.replace(PROBE, name="probe-order")


@asynccontextmanager
async def probe_on_own_nats(databases, root: Path) -> AsyncIterator[tuple[InProcessService, str]]:
    with nats_under(root) as server:
        settings_ = settings_for_test(
            ORDER_PROBE, database_url=databases.create("probe_order"), nats_url=server.url, migrate_on_start=False
        )
        db = Database(settings_.database_url)
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        await db.dispose()
        async with in_process(ORDER_PROBE, settings_) as service:
            yield service, server.url


async def lose_stream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_stream("AIRSIDE_BOOKING")
    finally:
        await nc.close()


async def restore_stream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await ensure_streams(nc.jetstream(), replicas=1, max_age_seconds=3600)
    finally:
        await nc.close()


async def test_an_event_the_server_refused_is_published_before_the_events_committed_after_it(databases, tmp_path):
    """The stream is gone when event A is published (the server answers "no responders"); it is back when
    B and C are committed, while A waits for its retry. B and C must not overtake A."""
    async with probe_on_own_nats(databases, tmp_path) as (probe, nats_url):
        await lose_stream(nats_url)
        codes = [uuid.uuid4().hex[:8] for _ in range(3)]
        first = await announce(probe, codes[0])
        await wait_for(lambda: attempted(probe, first, 1), timeout=10, what="the server refusing the first event")
        await restore_stream(nats_url)
        events = [first, await announce(probe, codes[1]), await announce(probe, codes[2])]

        async def all_published() -> bool:
            return all(row.published_at is not None for row in (await rows(probe, events)).values())

        await wait_for(all_published, timeout=20, what="the three events published")
        assert await stream_order(nats_url, "AIRSIDE_BOOKING", events) == events


async def first_unpublished_attempted(probe: InProcessService, events: list[str]) -> bool:
    held = await rows(probe, events)
    first = next((held[event_id] for event_id in events if held[event_id].published_at is None), None)
    return first is None or first.attempts >= 1


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.sampled_from(["announce", "lose stream", "restore stream"]), min_size=3, max_size=7))
async def test_whatever_refusals_come_between_commits_the_stream_holds_the_events_in_commit_order(databases, tmp_path_factory, steps):
    async with probe_on_own_nats(databases, tmp_path_factory.mktemp("nats-order")) as (probe, nats_url):
        events: list[str] = []
        stream_there = True
        for step in [*steps, "announce"]:
            if step == "announce":
                events.append(await announce(probe, uuid.uuid4().hex[:8]))
                if not stream_there:  # let the relay meet the refusal before anything else changes
                    await wait_for(lambda: first_unpublished_attempted(probe, events), timeout=10, what="the refused publish")
            elif step == "lose stream" and stream_there:
                await lose_stream(nats_url)
                stream_there = False
            elif step == "restore stream" and not stream_there:
                await restore_stream(nats_url)
                stream_there = True
        if not stream_there:
            await restore_stream(nats_url)

        async def all_published() -> bool:
            return all(row.published_at is not None for row in (await rows(probe, events)).values())

        await wait_for(all_published, timeout=60, what="every event published")
        # Each once, in commit order; a stream lost after a publish loses that event, as ops' republish then tells.
        held = await stream_order(nats_url, "AIRSIDE_BOOKING", events)
        assert held == [event for event in events if event in held] and len(set(held)) == len(held)

"""A live feed's limits (docs/feeds.md), on a lounge process of this module's own: a client that does not read is
dropped and the process's memory stays put; without NATS the feed answers 503 with Retry-After, never hangs; NATS
back from an empty store (the stream created anew, its sequences starting over) ends the streams, and a client
resuming with an id of the old stream is told to reload.

The events come straight onto the lounge's stream from a NATS client, as the lounge's relay would publish
them, so the kernel's socket buffers (megabytes on loopback) fill in seconds; nothing else here reads them.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import orjson
import pytest

from airside_tools.processes import NatsServer, ServiceProcess, free_port
from airside_tools.testing.feeds import FeedReader, about
from airside_tools.testing.harness import nats_under, service_process, token, wait_for

LOUNGE = "PEK-T3-VIP"
BOARD = f"/v1/lounges/{LOUNGE}/board/stream"
CHECKED_IN = "airside.lounge.visit.checked_in"


@pytest.fixture(scope="module")
def feed_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with nats_under(tmp_path_factory.mktemp("feed-nats")) as server:
        yield server


@pytest.fixture(scope="module")
def lounge(feed_nats: NatsServer, databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    process = service_process(
        "lounge", database_url=databases.create("feed_lounge"), nats_url=feed_nats.url, log_dir=Path(tmp_path_factory.mktemp("feed-logs"))
    )
    process.start().wait_ready(60)
    try:
        yield process
    finally:
        process.stop()


def check_in_event(number: int) -> bytes:
    """A check-in at the lounge as its relay publishes it, padded so a few hundred fill the socket buffers."""
    visit = {"id": f"visit-{number}", "lounge_id": LOUNGE, "station": "PEK", "note": "x" * 8000}
    envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "lounge", "type": CHECKED_IN}
    return orjson.dumps({**envelope, "time": "2026-12-02T10:00:00Z", "data": {"visit": visit}})


async def metric(http: httpx.AsyncClient, url: str, name: str) -> float:
    lines = (await http.get(f"{url}/metrics")).text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(f'{name}{{service="lounge"}}'))


def resident_kib(process: ServiceProcess) -> int:
    assert process.process is not None
    status = Path(f"/proc/{process.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


async def test_a_client_that_does_not_read_is_dropped_and_memory_stays_bounded(lounge: ServiceProcess, feed_nats: NatsServer):
    async with httpx.AsyncClient(timeout=10) as http:
        dropped_before = await metric(http, lounge.url, "airside_feed_clients_dropped_total")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(stalled, ("127.0.0.1", lounge.port))
        await loop.sock_sendall(stalled, f"GET {BOARD}?access_token={token('lounge_staff')} HTTP/1.1\r\nHost: lounge\r\n\r\n".encode())
        connection = await nats.connect(feed_nats.url)
        try:
            async with FeedReader(http, f"{lounge.url}{BOARD}", {"Authorization": f"Bearer {token('lounge_staff')}"}) as reading:
                await wait_for(lambda: metric(http, lounge.url, "airside_feed_clients"), timeout=10, what="both clients connected")
                rss_before = resident_kib(lounge)
                js = connection.jetstream()
                published = 0

                async def dropped() -> bool:
                    """100 more events, read by the client that reads (so the feed has taken them all), then: dropped yet?"""
                    nonlocal published
                    for _ in range(100):
                        published += 1
                        await js.publish(CHECKED_IN, check_in_event(published))
                    await reading.frame(about(CHECKED_IN, "visit", f"visit-{published}"), timeout=30)
                    return await metric(http, lounge.url, "airside_feed_clients_dropped_total") > dropped_before

                await wait_for(dropped, timeout=60, what="the lounge dropping the client that does not read", interval=0)
                assert published <= 1000, "a few megabytes of socket buffers, then the queue of 16, not more"
                assert resident_kib(lounge) - rss_before < 64 * 1024, "the frames the client did not read were not kept"
                # The client that reads got every frame and reads on.
                assert [frame.data["data"]["visit"]["id"] for frame in reading.changes] == [f"visit-{n}" for n in range(1, published + 1)]
                assert not reading.closed.is_set()
                assert await metric(http, lounge.url, "airside_feed_clients") == 1
        finally:
            stalled.close()
            await connection.close()


async def test_without_nats_the_feed_answers_503_and_the_process_stays_up(databases, tmp_path: Path):
    nowhere = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    process = service_process("lounge", database_url=databases.create("feed_lounge_alone"), nats_url=nowhere, log_dir=tmp_path)
    process.start().wait_ready(60)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"Authorization": f"Bearer {token('lounge_staff')}"}
            response = await http.get(f"{process.url}{BOARD}", headers=headers)
            assert response.status_code == 503 and response.headers["Retry-After"] == "5", response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert (await http.get(f"{process.url}/healthz")).status_code == 200
    finally:
        process.stop()


async def test_nats_back_from_an_empty_store_ends_the_streams_and_old_ids_reset(databases, tmp_path: Path):
    with nats_under(tmp_path / "nats") as server:
        lounge = service_process("lounge", database_url=databases.create("feed_lounge_renewed"), nats_url=server.url, log_dir=tmp_path)
        lounge.start().wait_ready(60)
        connection = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                headers = {"Authorization": f"Bearer {token('lounge_staff')}"}
                js = connection.jetstream()
                async with FeedReader(http, f"{lounge.url}{BOARD}", headers) as before:
                    for number in (1, 2, 3):
                        await js.publish(CHECKED_IN, check_in_event(number))
                    last = await before.frame(about(CHECKED_IN, "visit", "visit-3"))
                    server.stop()
                    shutil.rmtree(server.store_dir)
                    server.start()
                    await asyncio.wait_for(before.closed.wait(), timeout=30)  # ended: the ids it holds are of the old stream

                async def republished() -> bool:
                    """The lounge has declared its stream again: a publish is stored (before, nothing answers)."""
                    try:
                        await js.publish(CHECKED_IN, check_in_event(4), timeout=1)
                    except Exception:  # noqa: BLE001 - no stream yet
                        return False
                    return True

                await wait_for(republished, timeout=30, what="the lounge's stream declared again")
                resumed = {**headers, "Last-Event-ID": str(last.id)}
                async with FeedReader(http, f"{lounge.url}{BOARD}", resumed) as after:
                    await after.frame(lambda frame: frame.event == "reset")
                    await js.publish(CHECKED_IN, check_in_event(5))
                    fresh = await after.frame(about(CHECKED_IN, "visit", "visit-5"))
                    assert int(fresh.id or 0) <= 2, "the new stream's own sequence"
                    assert not any(frame.data["data"]["visit"]["id"] in ("visit-1", "visit-2", "visit-3") for frame in after.changes)
        finally:
            await connection.close()
            lounge.stop()

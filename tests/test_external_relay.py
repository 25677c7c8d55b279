"""The outbox relay in a process of its own (`airside relay <service>`, AIRSIDE_RELAY=external; docs/events.md).

Booking and its relay run as real processes, as compose runs them, on PostgreSQL and a nats-server of the
test's own. The relay publishes what booking commits, woken by booking's NOTIFY after each commit (its sweep is
set far beyond the test's waits), stops on SIGTERM only once the batch in hand is published and marked, and
shares the service's relay lock with the relay inside a service process, so only one of them ever publishes.
It also delivers the service's webhooks, which the service's own process then does not.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from airside.events import booking as booking_events
from airside.settings import AirsideSettings, SettingsError
from airside_tools.processes import ServiceProcess
from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth, fast_webhooks, nats_under, relay_process, service_process, wait_for
from airside_tools.webhook_receiver import Certificates, ReceiverProcess

ADMIN = auth("admin", stations=["*"])
STATIONS = booking_events.station_upserted.subject
EXTERNAL = {"AIRSIDE_RELAY": "external"}
# Far beyond every wait below: what the relay publishes in time, a NOTIFY woke it for.
NO_SWEEP = {"AIRSIDE_OUTBOX_SWEEP_SECONDS": "600"}


@pytest.fixture
def postgres_url(databases) -> str:
    if databases.kind != "postgresql":
        pytest.skip("the external relay needs PostgreSQL (on SQLite it is refused: see the test below)")
    return databases.create("relay")


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """What a test started, stopped after it (last first), pass or fail."""
    started: list[ServiceProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


def start(processes: list[ServiceProcess], process: ServiceProcess) -> ServiceProcess:
    processes.append(process.start())
    process.wait_ready(60)
    return process


async def put_station(service: ServiceProcess) -> str:
    """A station booking announces on airside.booking.station.upserted; its code is the event's subject."""
    code = "".join(chr(ord("A") + byte % 26) for byte in uuid.uuid4().bytes[:3])
    async with httpx.AsyncClient(base_url=service.url, headers=ADMIN, timeout=10) as client:
        response = await client.put(f"/v1/stations/{code}", json={"name": f"Relay {code}", "timezone": "Asia/Shanghai"})
    assert response.status_code == 200, response.text
    return code


async def in_the_stream(nats_url: str, codes: list[str]) -> None:
    """Every station in `codes` announced, each once."""

    def all_there(seen: list) -> bool:
        return set(codes) <= {event.subject for event in seen}

    seen = await published_events(nats_url, STATIONS, until=all_there, timeout=20)
    announced = [event.subject for event in seen if event.subject in codes]
    assert sorted(announced) == sorted(codes), "an event went out twice"


async def readiness(process: ServiceProcess) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{process.url}/readyz")).json()


async def leads(process: ServiceProcess) -> bool:
    return bool((await readiness(process))["outbox"]["relay_leader"])


async def published_by(process: ServiceProcess) -> float:
    """The process's own count of events its relay published (Prometheus text)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{process.url}/metrics")).text
    found = re.search(r'^airside_outbox_published_total\{service="booking"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_an_external_relay_publishes_what_the_service_commits_woken_by_the_database(postgres_url, nats_server, tmp_path, processes):
    booking = start(
        processes, service_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path, extra_env=EXTERNAL)
    )
    relay = start(
        processes, relay_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path, extra_env=NO_SWEEP)
    )
    await wait_for(lambda: leads(relay), timeout=20, what="the external relay leading")
    ready = await readiness(booking)
    assert (ready["outbox"]["relay"], ready["outbox"]["relay_leader"]) == ("external", None), ready
    since = datetime.now(UTC)

    codes = [await put_station(booking) for _ in range(3)]
    await in_the_stream(nats_server.url, codes)
    assert await published_by(booking) == 0, "the service's own process published"
    assert await published_by(relay) >= len(codes)

    # Republishing marks rows again: the service wakes the relay for those too, and, having no relay of its
    # own, waits by watching the rows.
    async with httpx.AsyncClient(base_url=booking.url, headers=ADMIN, timeout=30) as client:
        response = await client.post("/v1/ops/republish", json={"since": since.isoformat(), "wait_seconds": 15})
    assert response.status_code == 200, response.text
    assert response.json() == {"marked": len(codes), "published": len(codes), "pending": 0}


async def test_sigterm_stops_the_relay_only_after_the_batch_in_hand(postgres_url, tmp_path, processes):
    with nats_under(tmp_path / "nats") as nats_server:
        booking = start(
            processes,
            service_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path, extra_env=EXTERNAL),
        )
        relay = start(processes, relay_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path))
        await wait_for(lambda: leads(relay), timeout=20, what="the external relay leading")
        db = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            await wait_for(
                lambda: db.fetchval("SELECT count(*) = 0 FROM outbox_event WHERE published_at IS NULL"),
                timeout=20,
                what="the seed published",
            )

            async def held_by_the_relay() -> bool:
                """The relay has the row in a batch: it holds the row's lock until its PubAck and mark."""
                try:
                    async with db.transaction():
                        await db.fetch("SELECT seq FROM outbox_event WHERE published_at IS NULL FOR UPDATE NOWAIT")
                except asyncpg.LockNotAvailableError:
                    return True
                return False

            with nats_server.hung():  # the relay's publish waits for a PubAck that cannot come yet
                code = await put_station(booking)
                await wait_for(held_by_the_relay, timeout=10, what="the relay holding the new event in a batch")
                assert relay.process is not None
                relay.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.5)
                assert relay.process.poll() is None, "the relay stopped with its batch unpublished"
            relay.wait_stopped(30)
            assert relay.process.returncode == -signal.SIGTERM, relay.log_file.read_text()[-2000:]
            assert await db.fetchval("SELECT count(*) FROM outbox_event WHERE published_at IS NULL") == 0
        finally:
            await db.close()
        await in_the_stream(nats_server.url, [code])
        assert '"after_batch": true' in relay.log_file.read_text()


async def test_an_in_process_relay_and_an_external_one_never_publish_at_once(postgres_url, nats_server, tmp_path, processes):
    """They share the service's relay lock: whichever holds it publishes everything, the other nothing."""

    def booking_process(name: str, **env: str) -> ServiceProcess:
        return service_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path / name, extra_env=env)

    in_process = start(processes, booking_process("in-process"))
    await wait_for(lambda: leads(in_process), timeout=20, what="the in-process relay leading")
    relay = start(processes, relay_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path))
    before = await published_by(in_process)
    codes = [await put_station(in_process) for _ in range(5)]
    await in_the_stream(nats_server.url, codes)
    assert await published_by(in_process) - before == len(codes)
    assert await published_by(relay) == 0 and not await leads(relay), "the standing-by relay published"

    in_process.stop()  # its lock goes with it; the external relay takes over within a sweep
    await wait_for(lambda: leads(relay), timeout=20, what="the external relay taking over")
    returned = start(processes, booking_process("returned"))  # an in-process relay again: it stands by now
    before = await published_by(relay)
    more = [await put_station(returned) for _ in range(5)]
    await in_the_stream(nats_server.url, codes + more)
    assert await published_by(relay) - before == len(more)
    assert await published_by(returned) == 0 and not await leads(returned), "the standing-by in-process relay published"


def test_an_external_relay_is_refused_on_sqlite(tmp_path):
    """SQLite has one process: the service relays its own outbox, and the relay command will not start beside it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'booking.db'}"
    with pytest.raises(SettingsError, match="AIRSIDE_RELAY=external needs PostgreSQL"):
        AirsideSettings(database_url=url, relay="external").check_runnable()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airside"), "relay", "booking"],
        env={"PATH": "/usr/bin:/bin", "BOOKING_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "needs the service's PostgreSQL database" in done.stderr


async def delivered_by(process: ServiceProcess) -> float:
    """The webhook deliveries this process made, from its /metrics (0 before its first)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{process.url}/metrics")).text
    delivered = r'^airside_webhook_deliveries_total\{[^}]*outcome="delivered"[^}]*\} (\S+)$'
    return sum(float(value) for value in re.findall(delivered, text, re.MULTILINE))


async def test_with_an_external_relay_the_relay_process_delivers_the_webhooks(postgres_url, nats_server, tmp_path, processes):
    """Request workers never POST to partners either: the relay's process runs the fan-out and the dispatcher."""
    certificates = Certificates.create(tmp_path / "tls")
    receiver = start(processes, ReceiverProcess(certificates, tmp_path / "receiver"))
    environment = {**EXTERNAL, **fast_webhooks(certificates.ca_file)}
    booking = start(
        processes, service_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path, extra_env=environment)
    )
    relay = start(
        processes, relay_process("booking", database_url=postgres_url, nats_url=nats_server.url, log_dir=tmp_path, extra_env=environment)
    )
    body = {"url": receiver.hook_url("relay"), "event_types": ["airside.booking.station.*"]}
    async with httpx.AsyncClient(base_url=booking.url, headers=ADMIN, timeout=10) as client:
        created = await client.post("/v1/webhooks", json=body)
    assert created.status_code == 201, created.text
    await receiver.set_secrets(created.json()["secret"])

    code = await put_station(booking)

    async def arrived() -> bool:
        return bool((await receiver.state()).about(code))

    await wait_for(arrived, timeout=20, what=f"station {code}'s event at the receiver")
    assert await delivered_by(relay) >= 1
    assert await delivered_by(booking) == 0, "the service's own process delivered a webhook"

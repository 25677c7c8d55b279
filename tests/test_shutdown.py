"""SIGTERM under load (docs/testing.md R11; issue 10, item 22), against services as real uvicorn processes.

uvicorn alone closes every connection not mid-response on SIGTERM, so requests already sent on a
keep-alive connection got no answer (24 of 60 in a probe). Now readiness drops first, the
listener serves on for the drain, requests in flight finish, and the relay and the consumers stop
after their batch. The load here behaves like a load balancer: it stops sending new requests once
/readyz says 503, and every request it sent must be answered.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest

from airside_tools.processes import ServiceProcess
from airside_tools.testing.harness import ServiceSet, auth, wait_for

AGENT = auth("agent", stations=["PEK"])
STAFF = auth("supervisor", stations=["PEK"])
DRAIN_SECONDS = 4.0
# A balancer takes a replica out some time after its readiness fails (period x failure threshold): the
# listener must serve what arrives meanwhile.
BALANCER_NOTICES_AFTER = 0.5
CLIENTS = 60


@dataclass
class Load:
    """Keep-alive clients sending requests until the balancer (a /readyz watcher) takes the service out."""

    url: str
    taken_out: asyncio.Event = field(default_factory=asyncio.Event)
    # (sent at, answered at, status or the error that stood for an answer)
    requests: list[tuple[float, float, int | str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    draining_seen_at: float | None = None

    async def watch_readiness(self, http: httpx.AsyncClient) -> None:
        while not self.taken_out.is_set():
            try:
                response = await http.get(f"{self.url}/readyz")
            except httpx.HTTPError:
                self.taken_out.set()  # gone without saying so first: the balancer learns it too late
                return
            if response.status_code == 503:
                assert response.json()["status"] == "draining", response.text
                self.draining_seen_at = self.draining_seen_at or time.monotonic()
                if time.monotonic() - self.draining_seen_at >= BALANCER_NOTICES_AFTER:
                    self.taken_out.set()
            await asyncio.sleep(0.05)

    async def client(self, send: object) -> None:
        # One connection per client, kept alive between its requests, as a balancer's upstream pool does.
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) as http:
            while not self.taken_out.is_set():
                sent = time.monotonic()
                try:
                    outcome: int | str = await send(http)  # type: ignore[operator]
                except httpx.HTTPError as exc:
                    outcome = repr(exc)
                self.requests.append((sent, time.monotonic(), outcome))

    def in_flight_at(self, moment: float) -> int:
        return sum(1 for sent, answered, _ in self.requests if sent < moment < answered)

    def answered_after(self, moment: float) -> int:
        return sum(1 for sent, _, outcome in self.requests if sent > moment and isinstance(outcome, int))


async def under_load(load: Load, send: object, process: ServiceProcess, *, warm_up: int = 100) -> float:
    """Run the load, SIGTERM the process once `warm_up` requests were answered; returns when it was sent."""
    async with httpx.AsyncClient(timeout=10) as watcher_http:
        watcher = asyncio.create_task(load.watch_readiness(watcher_http))
        clients = [asyncio.create_task(load.client(send)) for _ in range(CLIENTS)]
        await wait_for(lambda: asyncio.sleep(0, len(load.requests) >= warm_up), timeout=60, what="the load warmed up")
        assert process.process is not None
        sigterm_at = time.monotonic()
        process.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(watcher, *clients), timeout=60)
    return sigterm_at


def assert_drained(load: Load, sigterm_at: float, process: ServiceProcess) -> None:
    unanswered = [outcome for _, _, outcome in load.requests if not isinstance(outcome, int)]
    assert not unanswered, f"{len(unanswered)} of {len(load.requests)} requests got no answer: {unanswered[:3]}"
    assert load.in_flight_at(sigterm_at) > 0, "no request was in flight when SIGTERM arrived: the test proves nothing"
    assert load.draining_seen_at is not None and load.draining_seen_at - sigterm_at < DRAIN_SECONDS, "readiness did not drop first"
    assert load.answered_after(load.draining_seen_at) > 0, "the listener served nothing once readiness had dropped"
    assert process.process is not None
    process.process.wait(30)
    stopped = [line for line in log_lines(process) if line.get("message") == "delivery stopped"]
    assert stopped, f"{process.name} did not stop its delivery loops; see {process.log_file}"
    assert stopped[-1]["cancelled"] == [], f"cut off mid-batch: {stopped[-1]}"
    assert "outbox-relay" in stopped[-1]["after_batch"]


def log_lines(process: ServiceProcess) -> list[dict]:
    lines = []
    for raw in process.log_file.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue  # uvicorn's own lines before logging is configured
    return lines


@pytest.fixture
def service_set(nats_server, databases, tmp_path):
    started = ServiceSet(
        databases, nats_server.url, tmp_path / "logs", names=("booking", "lounge"), AIRSIDE_DRAIN_SECONDS=str(DRAIN_SECONDS)
    )
    yield started.start()
    started.stop()


async def test_sigterm_under_writes_answers_every_request_and_loses_no_event(service_set):
    """Booking takes 60 clients registering members and lounge copies them; both get SIGTERM at once."""
    booking, lounge = service_set["booking"], service_set["lounge"]
    load = Load(booking.url)

    async def register(http: httpx.AsyncClient) -> int:
        label = uuid.uuid4().hex
        body = {"name": f"Member {label[:8]}", "phone": "+8613800138000", "tier": "gold"}
        response = await http.post(f"{booking.url}/v1/members", json=body, headers={**AGENT, "Idempotency-Key": label})
        if response.status_code == 201:
            load.created.append(response.json()["id"])
        return response.status_code

    sigterm_at = await under_load(load, register, booking)
    assert lounge.process is not None
    lounge.process.send_signal(signal.SIGTERM)  # while booking drains and its relay publishes
    assert {outcome for _, _, outcome in load.requests} == {201}, "every request answered, and answered as created"
    assert_drained(load, sigterm_at, booking)
    lounge.process.wait(30)
    lounge_stopped = [line for line in log_lines(lounge) if line.get("message") == "delivery stopped"][-1]
    assert lounge_stopped["cancelled"] == [] and "consumer-lounge-booking" in lounge_stopped["after_batch"], lounge_stopped

    # Nothing lost: what booking's relay had not published waits in its outbox, and lounge resumes from its
    # durable position: every member answered 201 reaches lounge's copy.
    booking.start().wait_ready()
    lounge.start().wait_ready()
    async with httpx.AsyncClient(timeout=30) as http:

        async def copied(member_id: str) -> bool:
            return (await http.get(f"{lounge.url}/v1/members/{member_id}", headers=STAFF)).status_code == 200

        async def all_copied() -> bool:
            found = await asyncio.gather(*(copied(member_id) for member_id in load.created))
            return all(found)

        await wait_for(all_copied, timeout=60, what=f"lounge copies of all {len(load.created)} members", interval=0.5)
        assert (await http.get(f"{booking.url}/readyz")).json()["outbox"]["pending"] == 0


@pytest.mark.parametrize("name", ["booking", "lounge", "callcenter"])
async def test_every_service_drains_on_sigterm(nats_server, databases, tmp_path, name):
    """The skeleton every service is built on drains, whatever the service: reads of its readiness under load."""
    service_set = ServiceSet(databases, nats_server.url, tmp_path / "logs", names=(name,), AIRSIDE_DRAIN_SECONDS=str(DRAIN_SECONDS))
    service_set.start()
    try:
        process = service_set[name]
        load = Load(process.url)

        async def healthz(http: httpx.AsyncClient) -> int:
            return (await http.get(f"{process.url}/healthz")).status_code

        sigterm_at = await under_load(load, healthz, process, warm_up=300)
        assert_drained(load, sigterm_at, process)
    finally:
        service_set.stop()

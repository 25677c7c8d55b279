"""P10: the reception board's live feed (docs/feeds.md) under 1,000 connected clients on one lounge process.

The clients run in a process of their own on the client core (`python -m bench.feeds SPEC.json RESULT.json`):
raw asyncio protocols with httptools' parser (as bench.loadgen), each keeping only a frame's `id:` and
`event:` lines and its arrival time; one of them, the witness, also reads which visit a frame is about.
With every client connected (each has had its `ready`), walk-ins check in through the lounge API at a
modest pace; for each check-in, the time from its 201 answer to its frame on every client. The lounge's RSS
is taken with no client connected (after a few check-ins warmed it up) and, at its peak, while the clients
are connected.

The clients' process reports its own CPU and event-loop lag over the check-ins: a load generator that falls
behind would show there, not as the service's latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httptools
import httpx
import nats
import orjson
import uvloop

from airside.events import flights as flight_events
from airside_tools.processes import ServiceProcess
from airside_tools.testing import passes
from bench import stack
from bench.loadgen import encode_request
from bench.targets import bearer
from bench.webhooks import percentile

LOUNGE, STATION = "PEK-T3-VIP", "PEK"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECKED_IN = b"airside.lounge.visit.checked_in"
CONNECTING_AT_ONCE = 50  # each connection is authorised with a database read: the pool is ten connections
WARMUP_CHECK_INS = 3


# --- the clients' process --------------------------------------------------------------------------


class BoardReader(asyncio.Protocol):
    """One board stream: the arrival time of each change frame by its id; the witness also keeps its visit."""

    def __init__(self, request: bytes, witness: bool) -> None:
        self.request = request
        self.witness = witness
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.buffer = b""
        self.ready = asyncio.get_running_loop().create_future()
        self.arrivals: dict[int, float] = {}  # checked_in frames: stream sequence -> time.time() of arrival
        self.visits: dict[str, int] = {}  # witness only: visit id -> stream sequence
        self.other_frames = 0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status != 200 and not self.ready.done():
            self.ready.set_exception(ConnectionError(f"answered {self.status}"))

    def on_body(self, body: bytes) -> None:
        arrived = time.time()
        self.buffer += body.replace(b"\r\n", b"\n")  # sse-starlette ends lines with CRLF
        *frames, self.buffer = self.buffer.split(b"\n\n")
        for frame in frames:
            self.take(frame, arrived)

    def take(self, frame: bytes, arrived: float) -> None:
        event, sequence, data = b"", 0, b""
        for line in frame.split(b"\n"):
            if line.startswith(b"event:"):
                event = line[6:].strip()
            elif line.startswith(b"id:"):
                sequence = int(line[3:])
            elif self.witness and line.startswith(b"data:"):
                data = line[5:]
        if event == CHECKED_IN:
            self.arrivals[sequence] = arrived
            if self.witness:
                self.visits[orjson.loads(data)["data"]["visit"]["id"]] = sequence
        elif event == b"ready" and not self.ready.done():
            self.ready.set_result(None)
        elif event:
            self.other_frames += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))


@dataclass
class LoopLag:
    """How late a 10 ms timer fires: a client loop that cannot keep up with its sockets shows it here."""

    samples: list[float] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.samples.append((time.perf_counter() - before - 0.01) * 1000)


async def clients_main(spec: dict[str, Any], result_file: Path) -> None:
    stack.pin(os.getpid(), spec["cpu"])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < spec["clients"] + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, spec["clients"] + 1000), hard))
    loop = asyncio.get_running_loop()
    request = encode_request(spec["host"], spec["port"], {"path": spec["path"], "headers": spec["headers"]})
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    clients: list[BoardReader] = []
    failures: list[str] = []

    async def connect(index: int) -> None:
        async with gate:
            try:
                _transport, client = await loop.create_connection(
                    lambda: BoardReader(request, witness=index == 0), spec["host"], spec["port"]
                )
                await asyncio.wait_for(client.ready, 30)
                clients.append(client)
            except (OSError, ConnectionError, TimeoutError) as exc:
                failures.append(repr(exc))

    started = time.monotonic()
    await asyncio.gather(*(connect(index) for index in range(spec["clients"])))
    witness = next((client for client in clients if client.witness), None)
    connected = {"connected": len(clients), "failed": len(failures), "failures": failures[:5], "seconds": time.monotonic() - started}
    print(json.dumps(connected), flush=True)

    # The check-ins happen now; the driver says how many it made once they are answered.
    lag = LoopLag()
    lag_task = loop.create_task(lag.run())
    cpu_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - wall_before
    lag_task.cancel()
    expected = json.loads(line)["check_ins"]
    deadline = time.monotonic() + spec["settle_seconds"]
    while time.monotonic() < deadline and any(len(client.arrivals) < expected for client in clients):  # noqa: ASYNC110 - own sockets
        await asyncio.sleep(0.05)
    cpu = (usage.ru_utime - cpu_before.ru_utime) + (usage.ru_stime - cpu_before.ru_stime)
    result = {
        **connected,
        "still_open": sum(not client.closed for client in clients),
        "receipts": [{str(sequence): at for sequence, at in client.arrivals.items()} for client in clients],
        "witness": witness.visits if witness else {},
        "other_frames": sum(client.other_frames for client in clients),
        "cpu_share": cpu / wall if wall else 0.0,
        "loop_lag_ms": {"p99": percentile(lag.samples, 0.99), "max": max(lag.samples, default=0.0)},
    }
    await asyncio.to_thread(result_file.write_text, json.dumps(result))


# --- the driver (in the bench's process) -----------------------------------------------------------


@dataclass(frozen=True)
class Flight:
    carrier: str
    number: str
    std: datetime

    @property
    def flight_date(self) -> date:
        return self.std.astimezone(SHANGHAI).date()

    def boarding_pass(self, name: str) -> str:
        return passes.boarding_pass(
            name, carrier=self.carrier, number=self.number, flight_date=self.flight_date, origin=STATION, destination="CTU", pnr="BENCH01"
        )


async def departing_flight(nats_url: str, lounge: ServiceProcess, desk: dict[str, str]) -> Flight:
    """A flight out of PEK in three hours, published on airside.flight.status as an airline system does; once the lounge knows it."""
    flight = Flight("CA", str(random.randrange(1000, 9999)), datetime.now(UTC) + timedelta(hours=3))
    payload = flight_events.FlightStatusChanged(
        carrier=flight.carrier, number=flight.number, flight_date=flight.flight_date, origin=STATION, destination="CTU",
        status="scheduled", updated_at=datetime.now(UTC), std=flight.std,
    )  # fmt: skip
    event = flight_events.flight_status.build(
        payload, subject=f"{flight.carrier}{flight.number}/{flight.flight_date}", source="airline/bench"
    )
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id}, timeout=10)
    finally:
        await connection.close()
    path = f"{lounge.url}/v1/flights/{flight.carrier}{flight.number}/{flight.flight_date.isoformat()}"
    async with httpx.AsyncClient(timeout=10) as http:
        deadline = time.monotonic() + 30
        while (await http.get(path, headers=desk)).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the lounge never learnt of {path}")
            await asyncio.sleep(0.1)
    return flight


async def open_round_the_clock(http: httpx.AsyncClient, lounge: ServiceProcess, capacity: int) -> None:
    """The station manager opens the lounge 00:00-00:00 with room for every walk-in of the phase."""
    manager = bearer(["station_manager"], sub="bench-station-manager", stations=(STATION,))
    current = await http.get(f"{lounge.url}/v1/lounges/{LOUNGE}", headers=manager)
    current.raise_for_status()
    changes = {"opens": "00:00", "closes": "00:00", "capacity": capacity}
    response = await http.patch(f"{lounge.url}/v1/lounges/{LOUNGE}", json=changes, headers={**manager, "If-Match": current.headers["ETag"]})
    response.raise_for_status()


async def walk_ins(http: httpx.AsyncClient, lounge: ServiceProcess, flight: Flight, desk: dict[str, str], names: range,
                   *, rate: float) -> dict[str, float]:  # fmt: skip
    """Walk-ins checked in one after another at `rate`: visit id -> when its 201 answer arrived."""
    answered: dict[str, float] = {}
    started = time.monotonic()
    for step, index in enumerate(names):
        await asyncio.sleep(max(0.0, started + step / rate - time.monotonic()))
        body = {"boarding_pass": flight.boarding_pass(f"FEED/{letters(index)}")}
        response = await http.post(f"{lounge.url}/v1/lounges/{LOUNGE}/visits", json=body, headers=desk)
        at = time.time()
        if response.status_code != 201:
            raise RuntimeError(f"check-in answered {response.status_code}: {response.text[:500]}")
        answered[response.json()["id"]] = at
    return answered


def letters(index: int, width: int = 4) -> str:
    """AAAA, AAAB, ...: names on boarding passes are letters only."""
    out = ""
    for _ in range(width):
        index, digit = divmod(index, 26)
        out = chr(ord("A") + digit) + out
    return out


def room_for(pid: int, clients: int) -> dict[str, int]:
    """The lounge process may open a socket per client, and its pool's, NATS's and its log: its soft RLIMIT_NOFILE raised
    (up to the hard limit) when it is lower. uvicorn itself takes them all: no --limit-concurrency, a backlog of 2048."""
    needed = clients + 200
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise RuntimeError(f"the lounge process may open {hard} files at most, fewer than {clients} clients need: raise ulimit -Hn")
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (needed, hard))
    return {"soft_before": soft, "soft": resource.prlimit(pid, resource.RLIMIT_NOFILE)[0], "hard": hard}


async def quiet(pid: int, *, timeout: float = 30) -> None:
    """Until the process uses under 5 % of a core over half a second: what an earlier phase left it to do is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = stack.cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if stack.cpu_seconds(pid) - before < 0.025:
            return


async def p10(lounge: ServiceProcess, nats_url: str, *, clients: int, check_ins: int, rate: float) -> dict[str, Any]:
    pid = lounge.process.pid  # type: ignore[union-attr]
    limit = room_for(pid, clients)
    desk = bearer(["lounge_staff"], sub="bench-lounge-desk", stations=(STATION,))
    await quiet(pid)
    async with httpx.AsyncClient(timeout=30) as http:
        await open_round_the_clock(http, lounge, capacity=WARMUP_CHECK_INS + check_ins + 10)
        flight = await departing_flight(nats_url, lounge, desk)
        await walk_ins(http, lounge, flight, desk, range(WARMUP_CHECK_INS), rate=rate)  # the code paths and the pool warm
        await quiet(pid)
        rss_before = stack.rss_mb(pid)
        stack.pin(pid, stack.SERVER_CPU)
        try:
            spec = {"host": "127.0.0.1", "port": lounge.port, "path": f"/v1/lounges/{LOUNGE}/board/stream", "headers": desk,
                    "clients": clients, "cpu": stack.CLIENT_CPU, "settle_seconds": 10.0}  # fmt: skip
            with stack.RssSampler({"lounge": pid}) as sampler, tempfile.TemporaryDirectory(prefix="bench-feeds-") as directory:
                readers, connected = await start_clients(spec, Path(directory))
                try:
                    await quiet(pid)  # the last connections' work done: check-ins meet a lounge that only holds its clients
                    rss_connected = stack.rss_mb(pid)
                    cpu_before = stack.cpu_seconds(pid)
                    answered = await walk_ins(http, lounge, flight, desk, range(WARMUP_CHECK_INS, WARMUP_CHECK_INS + check_ins), rate=rate)
                    lounge_cpu = stack.cpu_seconds(pid) - cpu_before
                    seen = await finish_clients(readers, len(answered))
                finally:
                    if readers.returncode is None:
                        readers.kill()
                rss_peak = sampler.peak["lounge"]
        finally:
            stack.pin(pid, None)
    return figures(seen, answered) | {
        "clients": clients,
        "connected": connected["connected"],
        "connect_failures": connected["failures"],
        "connect_seconds": round(connected["seconds"], 2),
        "still_open": seen["still_open"],
        "rate": rate,
        "lounge_nofile": limit,
        "rss_before_mb": rss_before,
        "rss_connected_mb": rss_connected,
        "rss_peak_mb": rss_peak,
        "rss_growth_mb": rss_peak - rss_before,
        "lounge_cpu_ms_per_check_in": round(lounge_cpu * 1000 / max(len(answered), 1), 2),
        "clients_cpu_share": round(seen["cpu_share"], 3),
        "clients_loop_lag_ms": seen["loop_lag_ms"],
        "other_frames": seen["other_frames"],
    }


async def start_clients(spec: dict[str, Any], directory: Path) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    """The clients' process, once every client is connected (or failed to): it and what it says of connecting."""
    spec_file, result_file = directory / "spec.json", directory / "result.json"
    spec_file.write_text(json.dumps(spec))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.feeds", str(spec_file), str(result_file),
        cwd=stack.ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    process.result_file = result_file  # type: ignore[attr-defined]
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
    if not line:
        raise RuntimeError(f"the feed clients exited with {await process.wait()} before connecting")
    return process, json.loads(line)


async def finish_clients(process: asyncio.subprocess.Process, check_ins: int) -> dict[str, Any]:
    """Tell the clients how many check-ins were answered; what they received once each has them all, or settle_seconds passed."""
    assert process.stdin is not None
    process.stdin.write(json.dumps({"check_ins": check_ins}).encode() + b"\n")
    await process.stdin.drain()
    code = await asyncio.wait_for(process.wait(), timeout=60)
    result_file: Path = process.result_file  # type: ignore[attr-defined]
    if code != 0:
        raise RuntimeError(f"the feed clients exited with {code}")
    return json.loads(await asyncio.to_thread(result_file.read_text))


def figures(seen: dict[str, Any], answered: dict[str, float]) -> dict[str, Any]:
    """Each (client, check-in): its frame's arrival minus the check-in's 201 answer; a check-in the witness never saw is
    missing on every client."""
    latencies: list[float] = []
    firsts: list[float] = []  # the answer to the first client's frame: relay, NATS, the hub's one subscription
    spreads: list[float] = []  # the first client's frame to the last's: the fan-out to every client
    each: list[tuple[float, float]] = []  # per check-in, in order: its first and its last receipt
    owed = len(answered) * seen["connected"]
    for visit, at in answered.items():
        sequence = seen["witness"].get(visit)
        if sequence is None:
            continue
        key = str(sequence)
        arrivals = [(receipts[key] - at) * 1000 for receipts in seen["receipts"] if key in receipts]
        latencies += arrivals
        if arrivals:
            firsts.append(min(arrivals))
            spreads.append(max(arrivals) - min(arrivals))
            each.append((round(min(arrivals), 1), round(max(arrivals), 1)))
    return {
        "check_ins": len(answered),
        "receipts": len(latencies),
        "missing": owed - len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "before_answer": sum(latency < 0 for latency in latencies),  # the frame came before the 201 reached the desk
        "first_client_p50_ms": percentile(firsts, 0.5),
        "fan_out_p50_ms": percentile(spreads, 0.5),
        "fan_out_max_ms": max(spreads, default=float("nan")),
        "first_and_last_ms": each,
    }


if __name__ == "__main__":
    uvloop.run(clients_main(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])))

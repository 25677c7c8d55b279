"""R9: the database away for 15 s under a stream of writes (docs/testing.md).

The service runs as the Dockerfile runs it, on a PostgreSQL instance of the test's own (whatever
database the rest of the run uses), which the test stops with a fast shutdown, as an operator's
restart would, and starts again on the same data.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth, service_process

OUTAGE_SECONDS = 15
WRITERS = 2
WRITES_PER_SECOND = 20  # across the writers


@dataclass
class Write:
    sent: float
    answered: float
    status: int
    headers: httpx.Headers
    body: dict[str, Any]
    phone: str


class WriteStream:
    """Members registered one after another by each writer until stopped; every answer kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.writes: list[Write] = []
        self.stopping = asyncio.Event()
        self._count = 0

    async def writer(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, headers=auth("agent"), timeout=30) as client:
            while not self.stopping.is_set():
                self._count += 1
                phone = f"+86139{self._count:08d}"
                sent = time.monotonic()
                response = await client.post("/v1/members", json={"name": f"Outage Member {self._count}", "phone": phone, "tier": "gold"})
                body = response.json() if response.headers["content-type"].endswith("json") else {"text": response.text}
                self.writes.append(Write(sent, time.monotonic(), response.status_code, response.headers, body, phone))
                await asyncio.sleep(WRITERS / WRITES_PER_SECOND)

    def answers(self) -> list[tuple[int, dict[str, Any]]]:
        return [(write.status, write.body) for write in self.writes[-3:]]

    def created_since(self, moment: float) -> list[Write]:
        return [write for write in self.writes if write.status == 201 and write.sent >= moment]


async def until(check: Any, timeout: float, what: Any) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what()}"
        await asyncio.sleep(0.05)


def log_records(path: Path) -> list[dict[str, Any]]:
    """The service's JSON log lines; anything else it printed (uvicorn's start, a bare traceback) as {"raw": line}."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"raw": line})
    return records


async def test_an_outage_is_503_with_retry_after_and_nothing_is_lost(own_postgres, nats_server, tmp_path):
    booking = service_process("booking", database_url=own_postgres.create_database("booking"), nats_url=nats_server.url, log_dir=tmp_path)
    booking.start()
    try:
        await asyncio.to_thread(booking.wait_ready, 60)
        stream = WriteStream(booking.url)
        writers = [asyncio.create_task(stream.writer()) for _ in range(WRITERS)]
        try:
            await until(lambda: len(stream.created_since(0)) >= 10, 30, lambda: f"writes before the outage (answers: {stream.answers()})")

            stopping_at = time.monotonic()
            await asyncio.to_thread(own_postgres.stop)
            stopped_at = time.monotonic()
            await asyncio.sleep(OUTAGE_SECONDS / 2)  # the outage itself: writes keep coming meanwhile
            async with httpx.AsyncClient(base_url=booking.url, timeout=10) as client:
                ready = await client.get("/readyz")
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            starting_at = time.monotonic()
            await asyncio.to_thread(own_postgres.start)
            back_at = time.monotonic()

            await until(
                lambda: len(stream.created_since(back_at)) >= 20,
                60,
                lambda: f"writes to succeed after the outage (answers: {stream.answers()})",
            )
        finally:
            stream.stopping.set()
            await asyncio.gather(*writers)

        # Readiness said the database was away, and when to ask again.
        assert ready.status_code == 503, ready.text
        assert ready.json()["database"] == "unavailable", ready.json()
        assert int(ready.headers["Retry-After"]) > 0

        # No write ever got a 500: a 201 or, while the database was away, a 503 problem with Retry-After.
        assert {write.status for write in stream.writes} == {201, 503}, sorted({write.status for write in stream.writes})
        during = [write for write in stream.writes if stopped_at <= write.sent and write.answered <= starting_at]
        assert len(during) >= OUTAGE_SECONDS * WRITES_PER_SECOND / 4, len(during)
        assert {write.status for write in during} == {503}
        for write in stream.writes:
            if write.status == 503:
                assert write.headers["content-type"] == "application/problem+json"
                assert write.body["type"] == "/problems/unavailable", write.body
                assert int(write.headers["Retry-After"]) > 0
        # Before the outage every write succeeded; one still in flight when the server stopped may be either.
        assert all(write.status == 201 for write in stream.writes if write.answered < stopping_at)

        # Recovered by itself, promptly.
        first_after = min(write.answered for write in stream.created_since(back_at))
        recovery = first_after - back_at
        print(f"R9: {len(during)} writes answered 503 during the outage; first 201 {recovery:.2f} s after the database was back")
        assert recovery < 5, f"writes succeeded again only {recovery:.1f} s after the database returned"

        # Nothing committed is lost: every 201 is stored, and its event reached the stream.
        created = {write.body["id"]: write for write in stream.writes if write.status == 201}
        async with httpx.AsyncClient(base_url=booking.url, headers=auth("agent"), timeout=10) as client:
            for member_id, write in created.items():
                stored = await client.get(f"/v1/members/{member_id}")
                assert stored.status_code == 200 and stored.json()["phone"] == write.phone, (member_id, stored.text)
        events = await published_events(
            nats_server.url,
            "airside.booking.member.registered",
            until=lambda seen: set(created) <= {event.subject for event in seen},
            timeout=30,
        )
        assert set(created) <= {event.subject for event in events}

        # The log says the outage once, and its end once: no traceback per request or per loop pass.
        records = log_records(booking.log_file)
        messages = [record.get("message") for record in records]
        assert messages.count("database unavailable") == 1, [m for m in messages if m and "database" in m]
        assert messages.count("database back") == 1
        assert messages.index("database unavailable") < messages.index("database back")
        assert [record for record in records if "Traceback" in record.get("raw", "")] == []
        assert [record for record in records if "exc_info" in record] == []
        errors = [record for record in records if record.get("level") == "ERROR" and record.get("message") != "database unavailable"]
        assert errors == []
    finally:
        booking.stop()

"""A partner's webhook endpoint, as a real HTTPS process: what the webhook tests and the bench deliver to.

Every request's Standard Webhooks signature is verified with the `standardwebhooks` package against the
secrets the receiver has been told (more than one during a rotation's overlap). The effect of an event is
applied once per `webhook-id` and kept in a SQLite file, so a receiver killed and started again still knows
what it had (docs/webhooks.md: a partner de-duplicates by `webhook-id`). `/control/*` is the tests' own
plain-JSON door: set the secrets, make the receiver fail or answer slowly, read what it received.

    python -m airside_tools.webhook_receiver --port 8443 --cert cert.pem --key key.pem --secret whsec_...
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import ssl
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airside_tools.processes import ServiceProcess, free_port, wait_until

SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    id TEXT PRIMARY KEY, type TEXT, subject TEXT, time TEXT, endpoint TEXT, received_at REAL, copies INTEGER
);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER)
"""


class Mode(StrEnum):
    ok = "ok"
    fail = "fail"  # every signed request answered 500, nothing applied
    slow = "slow"  # applied, then answered after `slow_seconds`


@dataclass
class Receiver:
    store: sqlite3.Connection
    secrets: list[str] = field(default_factory=list)
    mode: Mode = Mode.ok
    slow_seconds: float = 0.0

    def count(self, name: str) -> None:
        self.store.execute("INSERT INTO counter (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1", (name,))

    def verified(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        for secret in self.secrets:
            try:
                return Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
        return None

    def apply(self, event: dict[str, Any], endpoint: str) -> None:
        """The partner's effect, once per webhook-id (= the event id); a repeated id only counts a copy."""
        inserted = self.store.execute(
            "INSERT INTO received (id, type, subject, time, endpoint, received_at, copies) VALUES (?, ?, ?, ?, ?, ?, 1)"
            " ON CONFLICT (id) DO NOTHING",
            (event["id"], event.get("type"), event.get("subject"), event.get("time"), endpoint, time.time()),
        ).rowcount
        if not inserted:
            self.store.execute("UPDATE received SET copies = copies + 1 WHERE id = ?", (event["id"],))
            self.count("duplicates")

    def counts(self) -> dict[str, int]:
        """Events applied per endpoint: what a poller asks for, cheaply, until the full state is worth reading."""
        return dict(self.store.execute("SELECT endpoint, count(*) FROM received GROUP BY endpoint").fetchall())

    def state(self) -> dict[str, Any]:
        columns = ("id", "type", "subject", "time", "endpoint", "received_at", "copies")
        rows = self.store.execute(f"SELECT {', '.join(columns)} FROM received ORDER BY received_at").fetchall()
        counters = dict(self.store.execute("SELECT name, value FROM counter").fetchall())
        return {
            "events": [dict(zip(columns, row, strict=True)) for row in rows],
            **{name: counters.get(name, 0) for name in ("duplicates", "rejected", "failed")},
            "mode": self.mode,
            "secrets": len(self.secrets),
        }


def create_app(receiver: Receiver) -> Starlette:
    async def deliver(request: Request) -> Response:
        body = await request.body()
        event = receiver.verified(body, dict(request.headers))
        if event is None or event.get("id") != request.headers.get("webhook-id"):
            receiver.count("rejected")
            return JSONResponse({"detail": "signature not verified"}, status_code=401)
        if receiver.mode is Mode.fail:
            receiver.count("failed")
            return JSONResponse({"detail": "failing on purpose"}, status_code=500)
        receiver.apply(event, request.path_params["endpoint"])
        if receiver.mode is Mode.slow:
            await asyncio.sleep(receiver.slow_seconds)
        return Response(status_code=204)

    async def set_secrets(request: Request) -> Response:
        secrets = (await request.json())["secrets"]
        for secret in secrets:
            Webhook(secret)  # refuses what is not a secret now, not at the next delivery
        receiver.secrets = list(secrets)
        return JSONResponse({"secrets": len(receiver.secrets)})

    async def set_mode(request: Request) -> Response:
        body = await request.json()
        receiver.mode = Mode(body["mode"])
        receiver.slow_seconds = float(body.get("seconds", 0.0))
        return JSONResponse({"mode": receiver.mode, "seconds": receiver.slow_seconds})

    async def state(_request: Request) -> Response:
        return JSONResponse(receiver.state())

    async def counts(_request: Request) -> Response:
        return JSONResponse(receiver.counts())

    return Starlette(
        routes=[
            Route("/hooks/{endpoint}", deliver, methods=["POST"]),
            Route("/control/secrets", set_secrets, methods=["PUT"]),
            Route("/control/mode", set_mode, methods=["PUT"]),
            Route("/control/state", state, methods=["GET"]),
            Route("/control/counts", counts, methods=["GET"]),
        ]
    )


def open_store(path: str) -> sqlite3.Connection:
    # Autocommit; one connection used only from the event loop. No fsync per request: a kill -9 of the
    # process (what the tests do) loses nothing WAL has written, and the bench measures HTTP, not the disk.
    store = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    store.execute("PRAGMA journal_mode=WAL")
    store.execute("PRAGMA synchronous=OFF")
    store.executescript(SCHEMA)
    return store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airside_tools.webhook_receiver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="the server certificate (PEM, with its chain)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--store", default=":memory:", help="SQLite file of what was received (kept across restarts)")
    parser.add_argument("--secret", action="append", default=[], help="a whsec_ secret to verify with (repeatable)")
    args = parser.parse_args(argv)
    receiver = Receiver(open_store(args.store), secrets=args.secret)
    uvicorn.run(
        create_app(receiver),
        host=args.host,
        port=args.port,
        ssl_certfile=args.cert,
        ssl_keyfile=args.key,
        log_level="warning",
        access_log=False,
        # uvicorn waits for idle kept-alive TLS connections (the services' dispatchers hold some) to close
        # before exiting; a receiver asked to stop gives them this long.
        timeout_graceful_shutdown=1,
    )


@dataclass(frozen=True)
class Certificates:
    """A test CA (what the services are told to trust) and the receiver's certificate for 127.0.0.1 and localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path) -> Certificates:
        import trustme  # a test dependency (requirements-dev.txt), needed only where certificates are made

        authority = trustme.CA()
        server = authority.issue_cert("127.0.0.1", "localhost")
        directory.mkdir(parents=True, exist_ok=True)
        made = cls(directory / "ca.pem", directory / "receiver.pem", directory / "receiver.key")
        authority.cert_pem.write_to_path(str(made.ca_file))
        server.private_key_pem.write_to_path(str(made.key_file))
        for index, blob in enumerate(server.cert_chain_pems):
            blob.write_to_path(str(made.cert_file), append=index > 0)
        return made


class ReceiverProcess(ServiceProcess):
    """The receiver as a child process on a port of its own that stays the same across kill and start, so
    a subscription's URL keeps pointing at it ("down" in the tests is this process killed)."""

    def __init__(self, certificates: Certificates, directory: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        super().__init__("webhook-receiver", port or free_port(), {}, directory / "webhook-receiver.log", host)
        self.certificates = certificates
        self.store = directory / "webhook-receiver.sqlite3"
        self.secrets: list[str] = []
        self.tls = ssl.create_default_context(cafile=str(certificates.ca_file))

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def hook_url(self, endpoint: str) -> str:
        """Where a subscription delivers; the endpoint name is recorded with each event."""
        return f"{self.url}/hooks/{endpoint}"

    def command(self) -> list[str]:
        certificates = self.certificates
        command = [sys.executable, "-m", "airside_tools.webhook_receiver", "--host", self.host, "--port", str(self.port),
                   "--cert", str(certificates.cert_file), "--key", str(certificates.key_file), "--store", str(self.store)]  # fmt: skip
        for secret in self.secrets:  # a restarted receiver knows what it was last told
            command += ["--secret", secret]
        return command

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the webhook receiver exited with {self.process.returncode}; see {self.log_file}")
            try:
                return httpx.get(f"{self.url}/control/state", verify=self.tls, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, "webhook receiver", interval=0.1)

    def restart(self) -> None:
        """Start again after a kill, on the same port and store."""
        self.start().wait_ready()

    async def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(verify=self.tls, timeout=10) as client:
            response = await client.request(method, f"{self.url}/control/{path}", json=body)
            response.raise_for_status()
            return dict(response.json())

    async def set_secrets(self, *secrets: str) -> None:
        await self._control("PUT", "secrets", {"secrets": list(secrets)})
        self.secrets = list(secrets)

    async def set_mode(self, mode: str, seconds: float = 0.0) -> None:
        await self._control("PUT", "mode", {"mode": mode, "seconds": seconds})

    async def state(self) -> ReceivedState:
        return ReceivedState.of(await self._control("GET", "state"))

    async def counts(self) -> dict[str, int]:
        return {endpoint: int(count) for endpoint, count in (await self._control("GET", "counts")).items()}


@dataclass(frozen=True)
class ReceivedState:
    """What the receiver has applied (one entry per webhook-id) and counted."""

    events: list[dict[str, Any]]
    duplicates: int
    rejected: int
    failed: int

    @classmethod
    def of(cls, body: dict[str, Any]) -> ReceivedState:
        return cls(events=body["events"], duplicates=body["duplicates"], rejected=body["rejected"], failed=body["failed"])

    def about(self, subject: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["subject"] == subject]

    def at(self, endpoint: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["endpoint"] == endpoint]

    def copies(self) -> dict[str, int]:
        return {event["id"]: event["copies"] for event in self.events}


if __name__ == "__main__":
    main()

"""The NATS connection of one service: connects in the background, survives the server going away."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from airside.messaging.streams import TopologyError, ensure_streams
from airside.settings import AirsideSettings

log = logging.getLogger("airside.bus")


class Bus:
    def __init__(self, settings: AirsideSettings, service: str) -> None:
        self.settings = settings
        self.service = service
        self.nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self.topology_ready = False
        self._task: asyncio.Task[None] | None = None
        self._on_ready: list[Callable[[], Awaitable[None]]] = []
        self._redeclare: asyncio.Task[None] | None = None
        self._probe: asyncio.Task[None] | None = None
        # A hung server keeps its TCP connection open for ~12 s: the probe and the relay notice sooner.
        self._probe_failing = False
        self._publish_failing = False

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    @property
    def status(self) -> str:
        """`connected` while the server answers; `degraded` when it is away, or its pings or publishes fail."""
        return "connected" if self.connected and not self._probe_failing and not self._publish_failing else "degraded"

    def record_publish(self, *, succeeded: bool) -> None:
        """The relay's latest publish outcome: a server that pongs but refuses publishes is degraded too."""
        self._note("publishes", failing=not succeeded, was_failing=self._publish_failing)
        self._publish_failing = not succeeded

    async def probe(self) -> None:
        """Ask JetStream for the account's info, within the probe timeout: a hung server fails this at once."""
        failing = True
        if self.nc is not None and self.nc.is_connected:
            try:
                reply = await self.nc.request("$JS.API.INFO", b"", timeout=self.settings.nats_probe_timeout_seconds)
                failing = "error" in json.loads(reply.data)
            except Exception:  # noqa: BLE001 - no answer in time is the answer
                failing = True
        self._note("pings", failing=failing, was_failing=self._probe_failing)
        self._probe_failing = failing

    def _note(self, what: str, *, failing: bool, was_failing: bool) -> None:
        if failing and not was_failing:
            log.warning(f"NATS {what} failing: reported as degraded", extra={"nats_url": self.settings.nats_url})
        elif was_failing and not failing:
            log.info(f"NATS {what} succeed again", extra={"nats_url": self.settings.nats_url})

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.nats_probe_seconds)
            await self.probe()

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise ConnectionError("not connected to NATS")
        return self._js

    def on_ready(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run after every (re)connect once the streams are declared: consumers declare themselves here."""
        self._on_ready.append(callback)

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"{self.service}-nats-connect")
        self._probe = asyncio.create_task(self._probe_forever(), name=f"{self.service}-nats-probe")

    async def _connect_forever(self) -> None:
        delay = 0.2
        credentials = self.settings.nats_credentials()
        user, password = credentials if credentials is not None else (None, None)
        tls = self.settings.nats_tls()
        while self.nc is None:
            try:
                self.nc = await nats.connect(
                    # A cluster is given as a comma-separated list of its nodes.
                    servers=[url.strip() for url in self.settings.nats_url.split(",") if url.strip()],
                    name=f"airside-{self.service}",
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    ping_interval=5,
                    max_outstanding_pings=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                    user=user,
                    password=password,
                    tls=tls,
                )
            except Exception as exc:  # noqa: BLE001 - any failure means "try again later"
                log.warning("NATS not reachable, writes wait in the outbox", extra={"error": str(exc), "nats_url": self.settings.nats_url})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._js = self.nc.jetstream(timeout=5)
        log.info("connected to NATS", extra={"nats_url": self.settings.nats_url})
        await self.declare_topology()

    async def declare_topology(self) -> None:
        """Declare streams and consumers; retried until it works, since the server may be restarting."""
        delay = 0.2
        while self.connected:
            try:
                await ensure_streams(
                    self.js, replicas=self.settings.stream_replicas, max_age_seconds=self.settings.stream_max_age_days * 86400
                )
                for callback in self._on_ready:
                    await callback()
            except TopologyError as exc:
                log.error("stream declaration refused", extra={"error": str(exc)})
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("declaring streams failed, retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.topology_ready = True
            return

    async def _disconnected(self) -> None:
        log.warning("disconnected from NATS")

    async def _reconnected(self) -> None:
        log.info("reconnected to NATS")
        self._publish_failing = False  # a new connection: the relay's next publish tells again
        # A server restarted from an empty store has lost the streams: declare them again.
        self._redeclare = asyncio.create_task(self.declare_topology())

    async def _error(self, exc: Exception) -> None:
        log.debug("NATS client error", extra={"error": repr(exc)})

    async def close(self) -> None:
        for task in (self._task, self._probe):
            if task is not None:
                task.cancel()
        if self.nc is not None and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.close(), timeout=2)
            except Exception:  # noqa: BLE001 - closing on the way out
                pass

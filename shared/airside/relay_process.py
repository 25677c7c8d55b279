"""`airside relay <service>`: one service's outbox relay in a process of its own (AIRSIDE_RELAY=external).

The service's request workers then never publish. This process runs the same `OutboxRelay` the
in-process default runs: woken by the service's NOTIFY after its commits, with the sweep timer as the safety net,
leading under the service's relay lock, so it and a relay inside a service process never publish at once
(a second one stands by). It does not migrate: the service owns its schema, and compose starts the relay
once the service is healthy. It also delivers the service's webhooks (its fan-out consumer and
dispatcher, docs/webhooks.md), which the service's own process then does not run.

For probes and Prometheus it serves on AIRSIDE_RELAY_PORT: /healthz (alive), /readyz (the database
answers; whether it leads, NATS, the backlog) and /metrics. SIGTERM stops it once the batch in hand is
published and marked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airside.db.database import Database
from airside.logs import configure_logging
from airside.messaging.bus import Bus
from airside.messaging.envelope import set_schema_base
from airside.messaging.inbox import Consumer
from airside.messaging.outbox import OutboxRelay, backlog
from airside.metrics_refresh import MetricsRefresher
from airside.problems import RETRY_AFTER_SECONDS
from airside.runtime import DELIVERY_STOP_SECONDS
from airside.settings import AirsideSettings, SettingsError
from airside.supervision import supervised
from airside.tracing import configure_tracing
from airside.webhooks.dispatch import Dispatcher
from airside.webhooks.fanout import webhook_consumers

log = logging.getLogger("airside.relay")


class RelayProcess:
    """What the process holds while it runs: the service's database and NATS connection, its relay, its gauges."""

    def __init__(self, service: str, settings: AirsideSettings) -> None:
        if not settings.is_postgres:
            raise SettingsError("airside relay needs the service's PostgreSQL database: on SQLite the service relays its own outbox")
        self.service = service
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        self.bus = Bus(settings, f"{service}-relay")
        self.relay = OutboxRelay(self.db, self.bus, settings, service)
        # The subscription-disabled events this process writes name their schema as the service's do.
        set_schema_base(settings.public_base_url)
        self.webhooks = [Consumer(spec, self.db, self.bus, settings, service) for spec in webhook_consumers(service)]
        self.dispatcher = Dispatcher(self.db, settings)
        self.metrics = MetricsRefresher(
            self.db, self.bus, self.webhooks, service, settings.metrics_refresh_seconds, settings.nats_probe_timeout_seconds
        )

    @asynccontextmanager
    async def running(self, _app: Starlette) -> AsyncIterator[None]:
        self.bus.start()
        service = self.service
        delivering = [supervised(service, "outbox-relay", self.relay.run)]
        delivering += [supervised(service, f"consumer-{consumer.name}", consumer.run) for consumer in self.webhooks]
        dispatching = supervised(service, "webhook-dispatch", self.dispatcher.run)
        refreshing = supervised(service, "metrics-refresh", self.metrics.run)
        log.info("relay started", extra={"database": self.db.engine.dialect.name})
        try:
            yield
        finally:
            self.relay.stop()
            for consumer in self.webhooks:
                consumer.stop()
            _done, late = await asyncio.wait(delivering, timeout=DELIVERY_STOP_SECONDS)
            for task in (*late, dispatching, refreshing):
                task.cancel()
            await asyncio.gather(*delivering, dispatching, refreshing, return_exceptions=True)
            log.info("relay stopped", extra={"after_batch": not late})
            await self.bus.close()
            await self.db.dispose()

    async def healthz(self, _request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> JSONResponse:
        """200 while the database answers, leading or standing by; 503 with Retry-After while it does not."""
        try:
            await self.db.ping()
            pending, oldest_age = await backlog(self.db)
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            database = "unavailable" if self.db.unavailable(exc) else f"error: {exc.__class__.__name__}"
            return JSONResponse(
                {"status": "unavailable", "service": self.service, "database": database},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return JSONResponse(
            {
                "status": "ready",
                "service": self.service,
                "database": "ok",
                "nats": self.bus.status,
                "outbox": {"pending": pending, "oldest_age_seconds": round(oldest_age, 3), "relay_leader": self.relay.is_leader},
            }
        )

    async def metrics_text(self, _request: Request) -> Response:
        self.metrics.report_ages()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def relay_app(service: str, settings: AirsideSettings) -> Starlette:
    process = RelayProcess(service, settings)
    routes = [Route("/healthz", process.healthz), Route("/readyz", process.readyz), Route("/metrics", process.metrics_text)]
    return Starlette(routes=routes, lifespan=process.running)


def run_relay(service: str, settings: AirsideSettings, *, host: str) -> bool:
    """Serve until SIGTERM or SIGINT (uvicorn's handlers), then stop after the batch in hand; False when it
    could not start."""
    configure_logging(f"{service}-relay", settings.log_level)
    configure_tracing(f"{service}-relay")  # its publish spans, when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/tracing.md)
    app = relay_app(service, settings)
    config = uvicorn.Config(
        app, host=host, port=settings.relay_port, loop="uvloop", http="httptools", log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    server.run()
    return server.started

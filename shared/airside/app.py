"""The service skeleton every Airside service is built from: lifespan, platform routes, delivery."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import TokenVerifier
from airside.db.database import Database
from airside.db.upgrade import migrate
from airside.feeds.hub import FeedHub
from airside.forwarded_prefix import ForwardedPrefix
from airside.housekeeping import housekeeping
from airside.logs import configure_logging
from airside.messaging.bus import Bus
from airside.messaging.envelope import CloudEvent, set_schema_base
from airside.messaging.inbox import Consumer
from airside.messaging.outbox import OutboxRelay, RelayNotifier
from airside.messaging.streams import STREAMS, ConsumerSpec
from airside.metrics_refresh import MetricsRefresher
from airside.middleware import RequestContextMiddleware
from airside.openapi_responses import document_responses
from airside.platform_routes import platform_router
from airside.problems import install_problem_handlers
from airside.runtime import Job, Runtime
from airside.settings import AirsideSettings
from airside.shutdown import CloseWhileDraining, Drain
from airside.supervision import supervised
from airside.tracing import TracingMiddleware, configure_tracing
from airside.webhooks.dispatch import dispatch_webhooks
from airside.webhooks.fanout import webhook_consumers
from airside.webhooks.views import router as webhook_router

log = logging.getLogger("airside.app")


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    settings_class: type[AirsideSettings]
    routers: Sequence[APIRouter]
    alembic_dir: Path
    consumers: Sequence[ConsumerSpec] = ()
    seed: Callable[[AsyncSession], Awaitable[None]] | None = None
    # Long-running loops (schedulers) started beside the relay and the consumers.
    jobs: Sequence[Job] = ()
    # Derived keys the live feed adds to one of the service's events, read once per process (docs/feeds.md).
    feed_enrich: Callable[[Database, CloudEvent], Awaitable[dict[str, Any]]] | None = None


async def prepare_database(definition: ServiceDefinition, db: Database) -> None:
    """Migrate to head and seed reference data; both are idempotent."""
    await migrate(db, definition.alembic_dir)
    if definition.seed is not None:
        async with db.session() as session:
            await definition.seed(session)
            await session.commit()


def installed_services() -> dict[str, type[AirsideSettings]]:
    """The services installed here, by their `airside.services` entry points (their settings classes).

    Only settings are loaded: each service's tables live in one process of its own.
    """
    found = {entry.name: entry.load() for entry in entry_points(group="airside.services")}
    return dict(sorted(found.items()))


def load_service(name: str) -> ServiceDefinition:
    definition = import_module(f"{name}.main").SERVICE
    assert isinstance(definition, ServiceDefinition)
    return definition


@functools.cache
def freeze_startup() -> None:
    """What the first start-up built (modules, the app, its routes and models) lives as long as the process: frozen
    out of the collector's reach, a full collection walks only what came since (docs/architecture.md). Once per
    process: a test process starting app after app pays the collection (about 0.1 s) once, not per app."""
    gc.collect()
    gc.freeze()


def create_service_app(definition: ServiceDefinition, settings: AirsideSettings | None = None) -> FastAPI:
    settings = settings or definition.settings_class()
    # One service per process: its events' dataschema points at its own public URL (docs/events.md).
    set_schema_base(settings.public_base_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(definition.name, settings.log_level)
        settings.check_runnable()
        db = Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        if settings.migrate_on_start:
            await prepare_database(definition, db)
        bus = Bus(settings, definition.name)
        # AIRSIDE_RELAY=external: `airside relay <service>` publishes, and request workers never do.
        relay = OutboxRelay(db, bus, settings, definition.name) if settings.relay == "in_process" else None
        # Every service delivers its own events to partners' webhooks, beside its relay: here, or in the
        # relay's own process (docs/webhooks.md), so request workers never POST to partners either.
        webhooks_here = settings.relay == "in_process"
        specs = (*definition.consumers, *(webhook_consumers(definition.name) if webhooks_here else ()))
        consumers = {spec.durable: Consumer(spec, db, bus, settings, definition.name) for spec in specs}
        metrics = MetricsRefresher(
            db, bus, list(consumers.values()), definition.name, settings.metrics_refresh_seconds, settings.nats_probe_timeout_seconds
        )
        # The live feeds read the service's own stream; a service writing none (a test's) has no feed.
        own_stream = next((spec for spec in STREAMS if spec.writer == definition.name), None)
        enrich = partial(definition.feed_enrich, db) if definition.feed_enrich is not None else None
        feed = None
        if own_stream is not None:
            feed = FeedHub(bus, own_stream, window=settings.feed_window, client_queue=settings.feed_client_queue, enrich=enrich)
        runtime = Runtime(settings=settings, db=db, bus=bus, relay=relay, consumers=consumers, metrics=metrics, drain=drain, feed=feed)
        app.state.runtime = runtime
        app.state.db = db
        app.state.token_verifier = TokenVerifier(settings)
        app.state.cursor_key = settings.server_key("cursor")
        bus.start()
        if relay is not None:
            runtime.delivery.append(supervised(definition.name, "outbox-relay", relay.run))
        else:  # the commits of this process reach the external relay as NOTIFYs
            runtime.tasks.append(supervised(definition.name, "relay-notifier", RelayNotifier(db).run))
        for consumer in consumers.values():
            runtime.delivery.append(supervised(definition.name, f"consumer-{consumer.name}", consumer.run))
        runtime.tasks.append(supervised(definition.name, "metrics-refresh", metrics.run))
        if feed is not None:
            runtime.tasks.append(supervised(definition.name, "feed-hub", feed.run))
        for job in (housekeeping, *((dispatch_webhooks,) if webhooks_here else ()), *definition.jobs):
            runtime.tasks.append(supervised(definition.name, getattr(job, "__name__", "job"), partial(job, runtime)))
        drain.install()
        freeze_startup()
        log.info("service started", extra={"port": settings.port, "database": db.engine.dialect.name})
        try:
            yield
        finally:
            drain.uninstall()
            await runtime.stop()
            await bus.close()
            await db.dispose()

    app = FastAPI(
        title=definition.title,
        version="1.0.0",
        lifespan=lifespan,
        # No route ends in a slash: `/v1/members/4%2F` (a path parameter holding a slash) is a 404 problem,
        # not a 307 to another URL that no document lists.
        redirect_slashes=False,
        # Our own server span (airside.tracing) names the route, never the path or query, which may hold a
        # phone number: FastAPI's native spans, metrics and log records would add a second span carrying both.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service_name = definition.name
    drain = Drain(settings.drain_seconds)
    install_problem_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Correlation-ID"],
        )
    app.add_middleware(RequestContextMiddleware, service=definition.name)
    # Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/tracing.md): then no middleware at all.
    if (tracer := configure_tracing(definition.name)) is not None:
        app.add_middleware(TracingMiddleware, tracer=tracer)
    app.add_middleware(ForwardedPrefix)
    app.add_middleware(CloseWhileDraining, drain=drain)
    app.include_router(platform_router)
    app.include_router(webhook_router)
    for router in definition.routers:
        app.include_router(router)
    document_responses(app)
    return app

"""Routes every service serves: health, readiness, metrics, the AsyncAPI document and ops."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

import airside.events  # noqa: F401 - defines every event, so each schema below can be served
from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.messaging import set_aside
from airside.messaging.envelope import definition
from airside.messaging.inbox import ReplayError, dead_letters
from airside.messaging.outbox import backlog, republish_since
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import RETRY_AFTER_SECONDS, Problem, conflict, not_found
from airside.types import IsoDateTime

platform_router = APIRouter()
AdminOnly = Annotated[Principal, Depends(require(Role.admin))]
DeadLetterId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # the column is a 32-bit integer
EventType = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.]{0,127}$", examples=["airside.booking.order.created"])]
SchemaVersion = Annotated[int, Path(ge=1, le=999, examples=[1])]
EventId = Annotated[str, Path(min_length=1, max_length=36, description="The event's id (its CloudEvents `id`)")]


@platform_router.get("/healthz", summary="Check the process is alive", tags=["platform"])
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@platform_router.get(
    "/readyz",
    summary="Check the service is ready",
    tags=["platform"],
    responses={503: {"description": "Not ready: the database is away, or the service is draining"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers; NATS is reported, as `degraded` while it is away or its pings or
    publishes fail. 503 at once on SIGTERM, while the service drains."""
    runtime = request.app.state.runtime
    if runtime.drain.draining:
        return JSONResponse({"status": "draining", "service": request.app.state.service_name}, status_code=503)
    try:
        await runtime.db.ping()
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        database = "unavailable" if runtime.db.unavailable(exc) else f"error: {exc.__class__.__name__}"
        return JSONResponse(
            {"status": "unavailable", "service": request.app.state.service_name, "database": database},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    bus = runtime.bus
    pending, oldest_age = await backlog(runtime.db)
    return JSONResponse(
        {
            "status": "ready",
            "service": request.app.state.service_name,
            "database": "ok",
            "nats": bus.status,
            "streams": "ok" if bus.connected and bus.topology_ready else "unknown",
            "outbox": {
                "pending": pending,
                "oldest_age_seconds": round(oldest_age, 3),
                "relay": runtime.settings.relay,
                # Whether this process's relay leads; an external relay reports it on its own /readyz.
                "relay_leader": runtime.relay.is_leader if runtime.relay is not None else None,
            },
        }
    )


@platform_router.get("/metrics", summary="Read the Prometheus metrics", tags=["platform"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text of what was last read in the background (see `airside_metrics_age_seconds`): a
    scrape never waits on NATS or the database, which is when it is needed most."""
    request.app.state.runtime.metrics.report_ages()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@cache
def asyncapi_document() -> dict[str, Any]:
    return json.loads(files("airside").joinpath("asyncapi.json").read_text())


@platform_router.get("/asyncapi.json", summary="Read the AsyncAPI document", tags=["platform"])
async def asyncapi() -> dict[str, Any]:
    """Every channel and message of Airside, as other airline systems read it."""
    return asyncapi_document()


@platform_router.get("/schemas/events/{event_type}/v{version}.json", summary="Read an event payload's JSON Schema", tags=["platform"])
async def event_schema(event_type: EventType, version: SchemaVersion) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one version of one event's `data`: what an event's `dataschema` points at."""
    try:
        return definition(event_type, version).json_schema()
    except KeyError as exc:
        raise not_found("event schema") from exc


class DeadLetterStatus(StrEnum):
    parked = "parked"
    replayed = "replayed"


class DeadLetterPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "consumer": "lounge-orders",
                    "stream": "BOOKING",
                    "stream_seq": 4821,
                    "subject": "airside.booking.order.created",
                    "event_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                    "event_type": "airside.booking.order.created",
                    "payload": '{"specversion": "1.0", "type": "airside.booking.order.created"}',
                    "error": "ValidationError: order.station: String should match pattern",
                    "num_delivered": 1,
                    "status": "parked",
                    "created_at": "2026-12-24T02:00:00Z",
                    "replayed_at": None,
                }
            ]
        }
    )

    id: int
    consumer: str
    stream: str
    stream_seq: int
    subject: str
    event_id: str | None
    event_type: str | None
    payload: str
    error: str
    num_delivered: int
    status: DeadLetterStatus
    created_at: datetime
    replayed_at: datetime | None


@platform_router.get("/v1/ops/dead-letters", summary="List dead-lettered events", tags=["ops"])
async def list_dead_letters(
    session: SessionDep,
    _admin: AdminOnly,
    cursor: Annotated[Keyset, keyset(Annotated[int, Field(ge=1, le=2**31 - 1)])],
    status: DeadLetterStatus | None = None,
    limit: LimitQuery = 50,
) -> Page[DeadLetterPublic]:
    """Events a consumer could not handle, newest first."""
    rows = await dead_letters(session, status=status, before_id=cursor.after[0] if cursor.after is not None else None, limit=limit)
    kept, next_cursor = cursor.page(rows, limit, lambda letter: (letter.id,))
    return Page(items=[DeadLetterPublic.model_validate(letter, from_attributes=True) for letter in kept], next_cursor=next_cursor)


@platform_router.post("/v1/ops/dead-letters/{dead_letter_id}/replay", summary="Replay a dead-lettered event", tags=["ops"])
async def replay_dead_letter(dead_letter_id: DeadLetterId, request: Request, _admin: AdminOnly) -> DeadLetterPublic:
    """Run a parked event through its handler again; it takes effect once, whatever happened before. An
    event set aside from the outbox (consumer `outbox-relay`) is published again instead."""
    runtime = request.app.state.runtime
    try:
        letter = await set_aside.replay_dead_letter(runtime.db, runtime.bus, runtime.consumers, dead_letter_id)
    except LookupError as exc:
        raise not_found("dead letter") from exc
    except ReplayError as exc:
        raise Problem(409, "replay_failed", f"the replay failed again: {exc}") from exc
    return DeadLetterPublic.model_validate(letter, from_attributes=True)


@platform_router.post("/v1/ops/outbox/{event_id}/set-aside", summary="Set aside an event the relay cannot publish", tags=["ops"])
async def set_aside_event(event_id: EventId, request: Request, _admin: AdminOnly) -> DeadLetterPublic:
    """Events are published in commit order, so one the stream refuses every time holds back every later one
    (the relay logs its id). This moves it to the dead letters, where it is listed and can be replayed, and
    the events behind it go out."""
    try:
        letter = await set_aside.set_aside(request.app.state.runtime.db, event_id)
    except LookupError as exc:
        raise not_found("unpublished event") from exc
    except set_aside.NotFailing as exc:
        raise conflict(
            "not_failing", "the event has not failed to publish: it waits its turn, and setting it aside would only reorder it"
        ) from exc
    return DeadLetterPublic.model_validate(letter, from_attributes=True)


class RepublishRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-12-24T00:00:00Z", "wait_seconds": 10}]})

    since: IsoDateTime
    wait_seconds: float = Field(default=10, ge=0, le=25, description="How long to wait for the relay to publish them before answering")


class RepublishResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked": 120, "published": 118, "pending": 2}]})

    marked: int = Field(description="Events recorded since `since`, each marked to be published again under a new message id")
    published: int = Field(description="Of those, the events the stream had accepted when this answer was sent")
    pending: int = Field(description="The rest, still in the outbox (NATS away, a long backlog): the relay publishes them when it can")


@platform_router.post("/v1/ops/republish", summary="Republish events since a time", tags=["ops"])
async def republish(body: RepublishRequest, request: Request, _admin: AdminOnly) -> RepublishResult:
    """Publish again every event recorded since a time, e.g. to rebuild a lost stream, and say how many the
    stream has (consumers skip what they already applied)."""
    done = await republish_since(request.app.state.runtime.db, body.since, wait_seconds=body.wait_seconds)
    return RepublishResult(marked=done.marked, published=done.published, pending=done.pending)

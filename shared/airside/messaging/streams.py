"""Stream and durable-consumer declarations, created or updated idempotently at start-up."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from airside.messaging.envelope import CloudEvent

log = logging.getLogger("airside.streams")

DUPLICATE_WINDOW_SECONDS = 120.0


class TopologyError(RuntimeError):
    """A stream exists with settings that cannot be changed in place; never silently recreated."""


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    writer: str


STREAMS = (
    StreamSpec("AIRSIDE_BOOKING", ("airside.booking.>",), "booking"),
    StreamSpec("AIRSIDE_LOUNGE", ("airside.lounge.>",), "lounge"),
    StreamSpec("AIRSIDE_CALLCENTER", ("airside.callcenter.>",), "callcenter"),
    StreamSpec("AIRSIDE_FLIGHTS", ("airside.flight.>",), "airline systems, booking"),
)


def stream_for(subject: str) -> StreamSpec:
    for spec in STREAMS:
        if any(subject.startswith(pattern.removesuffix(">")) for pattern in spec.subjects):
            return spec
    raise LookupError(f"no stream holds subject {subject}")


Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer of one service; event types without a handler are acked and skipped.

    Each handler applies the major versions `versions` names for its type (version 1 unless named); an
    event of a handled type in another version is refused and parked (docs/events.md)."""

    durable: str
    stream: str
    filter_subject: str
    handlers: dict[str, Handler] = field(default_factory=dict, hash=False)
    versions: dict[str, frozenset[int]] = field(default_factory=dict, hash=False)
    # Run once per transaction after its handlers, before the commit: writes the handlers gathered, in one statement.
    before_commit: Callable[[AsyncSession], Awaitable[None]] | None = field(default=None, hash=False)

    def accepts(self, type_: str, version: int) -> bool:
        return type_ in self.handlers and version in self.versions.get(type_, frozenset({1}))


def stream_config(spec: StreamSpec, *, replicas: int, max_age_seconds: float) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age_seconds,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_streams(js: JetStreamContext, *, replicas: int, max_age_seconds: float) -> None:
    for spec in STREAMS:
        wanted = stream_config(spec, replicas=replicas, max_age_seconds=max_age_seconds)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            log.info("stream created", extra={"stream": spec.name})
            continue
        current = info.config
        if current.storage != wanted.storage or current.retention != wanted.retention:
            raise TopologyError(
                f"stream {spec.name} exists with storage={current.storage} retention={current.retention}; "
                f"Airside needs storage=file retention=limits. Migrate it by hand; it is not recreated automatically."
            )
        drift = (
            sorted(current.subjects or []) != sorted(wanted.subjects or [])
            or current.max_age != wanted.max_age
            or current.num_replicas != wanted.num_replicas
            or current.duplicate_window != wanted.duplicate_window
        )
        if drift:
            await js.update_stream(wanted)
            log.info("stream updated", extra={"stream": spec.name})


def consumer_config(spec: ConsumerSpec, *, max_deliver: int, ack_wait: float) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=spec.durable,
        filter_subject=spec.filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        max_ack_pending=1000,
    )


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, *, max_deliver: int, ack_wait: float) -> None:
    wanted = consumer_config(spec, max_deliver=max_deliver, ack_wait=ack_wait)
    try:
        info = await js.consumer_info(spec.stream, spec.durable)
    except NotFoundError:
        await js.add_consumer(spec.stream, wanted)
        log.info("consumer created", extra={"consumer": spec.durable})
        return
    current = info.config
    if current.filter_subject != wanted.filter_subject or current.max_deliver != wanted.max_deliver or current.ack_wait != wanted.ack_wait:
        await js.add_consumer(spec.stream, wanted)
        log.info("consumer updated", extra={"consumer": spec.durable})

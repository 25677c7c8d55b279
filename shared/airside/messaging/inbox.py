"""Idempotent consumers: inbox table, retries with backoff, dead letters (docs/events.md rules 2-3).

Each event's effects and its `(consumer, event_id)` row commit in one transaction; the ack
follows the commit. A failing handler is nak'ed with a growing delay; at the delivery bound, or at
once for bytes that are not an event or an event refused for good (`EventRefused`), the event is
parked and terminated so it never blocks the stream. A failure that is the database away parks
nothing: the event is nak'ed and comes back, as it does while a dead letter cannot be stored, so it
is never lost and never parked for an outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from sqlalchemy import Text, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.db.database import Database
from airside.logs import causation_id_var, correlation_id_var, trace_id_from, trace_id_var, without_phone_numbers
from airside.messaging.bus import Bus
from airside.messaging.envelope import CloudEvent, EnvelopeError, EventRefused, parse_envelope
from airside.messaging.streams import ConsumerSpec, ensure_consumer
from airside.messaging.versions import event_version
from airside.metrics import CONSUMER_EVENTS, CONSUMER_PENDING, CONSUMER_REDELIVERIES
from airside.settings import AirsideSettings
from airside.statements import insert_ignoring_duplicates, insert_many_ignoring_duplicates
from airside.tracing import consumer_span, tracer

log = logging.getLogger("airside.inbox")

FETCH_BATCH = 64


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(sa_type=UtcDateTime)


class DeadLetter(SQLModel, table=True):
    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("consumer", "event_id", "stream_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    consumer: str = Field(max_length=100, index=True)
    stream: str = Field(max_length=100)
    stream_seq: int
    subject: str = Field(max_length=200)
    event_id: str | None = Field(default=None, max_length=64)
    event_type: str | None = Field(default=None, max_length=200)
    payload: str = Field(sa_type=Text)
    error: str = Field(sa_type=Text)
    num_delivered: int
    status: str = Field(default="parked", max_length=20, index=True)  # parked | replayed
    created_at: datetime = Field(sa_type=UtcDateTime)
    replayed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ReplayError(RuntimeError):
    pass


@contextmanager
def event_context(event: CloudEvent) -> Iterator[None]:
    """The event's correlation, trace and causation on every log line and event its handler writes."""
    correlation = correlation_id_var.set(event.correlationid)
    trace = trace_id_var.set(trace_id_from(event.traceparent))
    causation = causation_id_var.set(event.id)
    try:
        yield
    finally:
        correlation_id_var.reset(correlation)
        trace_id_var.reset(trace)
        causation_id_var.reset(causation)


def _adopt_delivery_trace(event: CloudEvent, message: Msg) -> None:
    """With tracing on, the consumer's copy of the event takes the traceparent of its delivery (the relay's
    publish span, in the envelope's trace): the consumer's span is then the publish span's child."""
    delivered = message.headers.get("traceparent") if message.headers else None
    if delivered:
        event.traceparent = delivered


class Consumer:
    """One durable pull consumer of one service, handling its messages in stream order."""

    def __init__(self, spec: ConsumerSpec, db: Database, bus: Bus, settings: AirsideSettings, service: str) -> None:
        self.spec = spec
        self.db = db
        self.bus = bus
        self.settings = settings
        self.service = service
        self.name = spec.durable
        bus.on_ready(self.declare)
        self._declared = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        """Return from `run` once the batch in hand is committed and acked."""
        self._stopping = True

    # No server bound: a message the server stopped delivering would sit in the stream, never parked. Our
    # own bound (`dead_letter_after`) parks it, and a delivery that cannot park it naks it to come back.
    max_deliver = -1

    async def declare(self) -> None:
        await ensure_consumer(self.bus.js, self.spec, max_deliver=self.max_deliver, ack_wait=self.settings.ack_wait_seconds)
        self._declared.set()

    async def run(self) -> None:
        subscription: JetStreamContext.PullSubscription | None = None
        while not self._stopping:
            try:
                if not self.bus.connected or not self.bus.topology_ready:
                    await asyncio.sleep(0.2)
                    continue
                await self._declared.wait()
                if subscription is None:
                    subscription = await self.bus.js.pull_subscribe_bind(durable=self.spec.durable, stream=self.spec.stream)
                try:
                    messages = await subscription.fetch(FETCH_BATCH, timeout=1)
                except (TimeoutError, NatsTimeoutError):
                    continue
                await self.handle_batch(messages)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS restarting, consumer gone: rebuild and go on
                log.warning("consumer loop error, resubscribing", extra={"consumer": self.name, "error": repr(exc)})
                if subscription is not None:
                    try:
                        await subscription.unsubscribe()
                    except Exception:  # noqa: BLE001
                        pass
                    subscription = None
                if self.bus.connected:
                    try:
                        await self.declare()
                    except Exception:  # noqa: BLE001
                        pass
                await asyncio.sleep(0.5)

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Apply runs of first deliveries in one transaction each (one commit, then the acks), in stream
        order. If any handler in a run fails, the run is rolled back and taken one message at a time, so
        retries and parking stay per event; redeliveries, unknown types and bad bytes go one at a time."""
        run: list[tuple[Msg, CloudEvent]] = []
        for message in messages:
            event = self._first_delivery(message)
            if event is not None:
                run.append((message, event))
                continue
            await self._apply_run(run)
            run = []
            await self.handle(message)
        await self._apply_run(run)

    def _first_delivery(self, message: Msg) -> CloudEvent | None:
        if message.metadata.num_delivered > 1:
            return None
        try:
            event = parse_envelope(message.data)
            version = event_version(event.dataschema)
        except EventRefused:
            return None
        if tracer() is not None:
            _adopt_delivery_trace(event, message)
        return event if self.spec.accepts(event.type, version) else None

    async def _apply_run(self, run: list[tuple[Msg, CloudEvent]]) -> None:
        if len(run) <= 1:
            for message, event in run:
                await self.handle(message, event)
            return
        try:
            outcomes = await self.apply_all([event for _message, event in run])
        except Exception as exc:  # noqa: BLE001 - nothing of the run committed: one by one decides what failed
            log.info("batch rolled back, applying one by one", extra={"consumer": self.name, "events": len(run), "error": repr(exc)})
            for message, event in run:
                await self.handle(message, event)
            return
        for outcome in outcomes:
            CONSUMER_EVENTS.labels(self.service, self.name, outcome).inc()
        await asyncio.gather(*(message.ack() for message, _event in run))

    async def handle(self, message: Msg, event: CloudEvent | None = None) -> None:
        """Apply one message (its envelope parsed here unless the batch parsed it already: the parse is a
        tenth of a consumer's CPU per event, bench/PROFILE.md), retrying, parking or acking it."""
        delivered = message.metadata.num_delivered
        if delivered > 1:
            CONSUMER_REDELIVERIES.labels(self.service, self.name).inc()
        if event is None:
            try:
                event = parse_envelope(message.data)
            except EnvelopeError as exc:
                await self._park(message, None, str(exc))
                return
            if tracer() is not None:
                _adopt_delivery_trace(event, message)
        handler = self.spec.handlers.get(event.type)
        if handler is None:
            CONSUMER_EVENTS.labels(self.service, self.name, "ignored").inc()
            await message.ack()
            return
        with event_context(event):  # the retry and parking log lines carry the event's correlation too
            try:
                self.check_version(event)
                outcome = await self.apply(event)
            except EventRefused as exc:  # a payload that does not parse, or a value no retry changes: park it now
                await self._park(message, event, str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then parked
                # A database away is no fault of the event: it comes back until the database does, never parked for it.
                if delivered >= self.settings.dead_letter_after and not self.db.unavailable(exc):
                    await self._park(message, event, repr(exc))
                else:
                    log.warning(
                        "handler failed, retrying",
                        extra={"consumer": self.name, "event_id": event.id, "type": event.type, "delivered": delivered, "error": repr(exc)},
                    )
                    CONSUMER_EVENTS.labels(self.service, self.name, "retried").inc()
                    await message.nak(delay=self._retry_delay(delivered))
                return
        CONSUMER_EVENTS.labels(self.service, self.name, outcome).inc()
        await message.ack()

    def check_version(self, event: CloudEvent) -> None:
        """Refuse an event of a handled type in a major version no handler of this consumer applies."""
        version = event_version(event.dataschema)
        if not self.spec.accepts(event.type, version):
            raise EventRefused(f"{self.name} has no handler for {event.type} version {version}")

    def _retry_delay(self, delivered: int) -> float:
        delays = self.settings.retry_delays
        return delays[min(delivered - 1, len(delays) - 1)]

    async def apply(self, event: CloudEvent) -> str:
        """Run the handler and record the event in one transaction; 'duplicate' if already done."""
        (outcome,) = await self.apply_all([event])
        return outcome

    async def apply_all(self, events: list[CloudEvent]) -> list[str]:
        """Run each event's handler and record it, all in one transaction; 'duplicate' for one already done."""
        outcomes = []
        async with self.db.session() as session:
            # Claim every event first, in one statement: a racing twin delivery waits on its row and
            # then finds it taken. An id twice in one batch is claimed once.
            now = utcnow()
            rows = [{"consumer": self.name, "event_id": event_id, "processed_at": now} for event_id in dict.fromkeys(e.id for e in events)]
            claimed = await insert_many_ignoring_duplicates(
                session, ProcessedEvent, rows, ProcessedEvent.event_id, index_elements=["consumer", "event_id"]
            )
            for event in events:
                if event.id not in claimed:
                    outcomes.append("duplicate")
                    continue
                claimed.discard(event.id)
                with event_context(event), consumer_span(self.name, event):
                    await self.spec.handlers[event.type](session, event)
                outcomes.append("applied")
            if self.spec.before_commit is not None:
                await self.spec.before_commit(session)
            await session.commit()
        return outcomes

    async def _park(self, message: Msg, event: CloudEvent | None, error: str) -> None:
        """Store the message as a dead letter, then `term` it. When it cannot be stored (the database is
        away), it is nak'ed instead and comes back: a message is always in the stream or parked."""
        meta = message.metadata
        letter = {
            "consumer": self.name,
            "stream": meta.stream,
            "stream_seq": meta.sequence.stream,
            "subject": message.subject,
            "event_id": event.id if event else None,
            "event_type": event.type if event else None,
            "payload": message.data.decode("utf-8", errors="replace"),
            "error": without_phone_numbers(error)[:4000],  # a handler's error may quote a caller's phone
            "num_delivered": meta.num_delivered,
            "status": "parked",
            "created_at": utcnow(),
        }
        try:
            async with self.db.session() as session:
                # Parked already when an earlier delivery stored it and its term was lost: found by its stream
                # position (bytes that are no event have no id for the unique key), or by the key in a race.
                parked = await session.scalar(
                    select(DeadLetter.id).where(
                        DeadLetter.consumer == self.name, DeadLetter.stream == meta.stream, DeadLetter.stream_seq == meta.sequence.stream
                    )
                )
                if parked is None:
                    await insert_ignoring_duplicates(session, DeadLetter, letter, index_elements=["consumer", "event_id", "stream_seq"])
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - not stored: the stream keeps the message until a delivery can park it
            log.warning(
                "dead letter not stored, the event comes back",
                extra={"consumer": self.name, "subject": message.subject, "delivered": meta.num_delivered, "error": repr(exc)},
            )
            CONSUMER_EVENTS.labels(self.service, self.name, "retried").inc()
            await message.nak(delay=self._retry_delay(meta.num_delivered))
            return
        log.error("event dead-lettered", extra={"consumer": self.name, "subject": message.subject, "error": error[:500]})
        CONSUMER_EVENTS.labels(self.service, self.name, "dead_lettered").inc()
        await message.term()

    async def refresh_lag(self, timeout: float) -> None:
        """Read the consumer's lag from JetStream for /metrics (in the background); raises when NATS does not answer."""
        info = await self.bus.js.consumer_info(self.spec.stream, self.spec.durable, timeout=timeout)
        CONSUMER_PENDING.labels(self.service, self.name).set(info.num_pending or 0)


async def replay(db: Database, consumers: dict[str, Consumer], dead_letter_id: int) -> DeadLetter:
    """Run a parked event through its consumer's handler again (once: the inbox guards it)."""
    async with db.session() as session:
        letter = await session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise LookupError(dead_letter_id)
    consumer = consumers.get(letter.consumer)
    if consumer is None:
        raise ReplayError(f"consumer {letter.consumer} does not run in this service")
    try:
        event = parse_envelope(letter.payload.encode())
        if event.type not in consumer.spec.handlers:
            raise ReplayError(f"{letter.consumer} has no handler for {event.type}")
        consumer.check_version(event)
        await consumer.apply(event)
    except (EventRefused, ReplayError) as exc:
        raise ReplayError(str(exc)) from exc
    except Exception as exc:
        async with db.session() as session:
            stored = await session.get(DeadLetter, dead_letter_id)
            assert stored is not None
            stored.error = without_phone_numbers(repr(exc))[:4000]
            await session.commit()
        raise ReplayError(repr(exc)) from exc
    async with db.session() as session:
        stored = await session.get(DeadLetter, dead_letter_id)
        assert stored is not None
        stored.status = "replayed"
        stored.replayed_at = utcnow()
        await session.commit()
        return stored


async def count_parked(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).where(DeadLetter.status == "parked"))).scalar_one())


async def dead_letters(session: AsyncSession, *, status: str | None, before_id: int | None, limit: int) -> list[DeadLetter]:
    """Parked (and replayed) events, newest first, one past `limit` for the page's cursor."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit + 1)  # type: ignore[union-attr]
    if status:
        query = query.where(DeadLetter.status == status)
    if before_id is not None:
        query = query.where(DeadLetter.id < before_id)  # type: ignore[operator]
    return list((await session.execute(query)).scalars().all())

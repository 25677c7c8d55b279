"""Transactional outbox: events are rows committed with the state change, published by one relay.

docs/events.md rule 1. The writer adds rows inside the business transaction; after that commit the
relay is woken at once, and a timer sweep catches anything a wake-up missed. Rows are selected
by state (never by a high-water mark), published with `Nats-Msg-Id`, and marked only after the
PubAck, in commit order: an event not yet published holds back every one committed after it.
Housekeeping prunes them after the stream's retention. On PostgreSQL one relay leads through an
advisory lock (a replica's, or `airside relay <service>` in a process of its own); the others stand
by. The writer wakes the relay of its own process after its commit; with the relay in another
process, a `RelayNotifier` passes the wake-up on as a PostgreSQL NOTIFY, which the leader LISTENs for.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, Integer, Text, bindparam, event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.db.database import Database
from airside.db.rows import row_instance
from airside.messaging.bus import Bus
from airside.messaging.envelope import CloudEvent, EventDefinition
from airside.messaging.streams import stream_for
from airside.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED, RELAY_LEADER
from airside.settings import AirsideSettings
from airside.statements import Runner
from airside.tracing import end_publish_spans, start_publish_span, tracer

log = logging.getLogger("airside.outbox")

# How long the leader trusts its lock connection without asking it again (a dead one frees the lock).
LOCK_CHECK_SECONDS = 1.0
# While NATS is away or its streams are not declared yet, a relay looks again this often (not a whole sweep).
BUS_WAIT_SECONDS = 0.2
RELAY_LOCK_BASE = 7_201_100


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "published_at", "next_attempt_at", "seq"),)

    # BIGINT on PostgreSQL; SQLite only autoincrements a column declared INTEGER PRIMARY KEY.
    seq: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    event_id: str = Field(max_length=36, unique=True)
    subject: str = Field(max_length=200)
    envelope: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    # How often ops asked for it again (`republish_since`); each time it goes out under a new Nats-Msg-Id.
    republished: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


# PostgreSQL: the channel on which a process that committed outbox rows wakes the relay of another
# (`RelayNotifier`); the leading relay LISTENs on it.
WAKE_CHANNEL = "airside_outbox"

_WAKE_FLAG = "airside_outbox_written"
_PENDING = "airside_outbox_pending"
_wake_callbacks: list[Any] = []


def record(
    session: Session | Any, definition: EventDefinition[Any], payload: BaseModel, *, subject: str | None, source: str | None = None
) -> CloudEvent:
    """Add an event to the caller's transaction; it is published only if that transaction commits.

    The source defaults to the event's producing service; booking names itself when it relays flights.
    """
    row, envelope = outbox_row(definition, payload, subject=subject, source=source)
    # Held until the commit, then inserted with the transaction's other events in one statement
    # (a consumer's batch records one per event); a rollback drops them with everything else.
    session.info.setdefault(_PENDING, []).append(row)
    session.info[_WAKE_FLAG] = True
    return envelope


def outbox_row(
    definition: EventDefinition[Any], payload: BaseModel, *, subject: str | None, source: str | None = None
) -> tuple[OutboxEvent, CloudEvent]:
    """The outbox row of one event, not yet added anywhere."""
    values, envelope = outbox_values(definition, payload, subject=subject, source=source)
    # Built like a loaded row (no per-field instrumentation); a Session still inserts it as a new one.
    return row_instance(OutboxEvent, values), envelope


def outbox_values(
    definition: EventDefinition[Any], payload: BaseModel, *, subject: str | None, source: str | None = None
) -> tuple[dict[str, Any], CloudEvent]:
    """The columns of one event's outbox row, for a write plan (airside.statements) to insert; the
    writer calls `wake_relays` after its commit."""
    envelope = definition.build(payload, subject=subject, source=source or f"airside/{definition.producer}")
    now = utcnow()
    values = {"event_id": envelope.id, "subject": definition.subject, "envelope": envelope.to_json().decode(), "created_at": now}
    return {**values, "next_attempt_at": now, "attempts": 0, "republished": 0}, envelope


def wake_relays() -> None:
    """After a commit that wrote outbox rows without a Session (the Session's hook does it otherwise)."""
    for wake in _wake_callbacks:
        wake()


@event.listens_for(Session, "before_commit")
def _add_recorded_events(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.add_all(pending)  # flushed by this commit, together


@event.listens_for(Session, "after_commit")
def _wake_relay_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE_FLAG, False):
        wake_relays()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_FLAG, None)
    session.info.pop(_PENDING, None)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, settings: AirsideSettings, service: str) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self.service = service
        self._wakeup = asyncio.Event()
        self._lock_conn: AsyncConnection | None = None
        self._lock_checked = 0.0
        self.is_leader = False
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        """Publish one last batch (what the drained requests wrote), then return from `run`."""
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        _wake_callbacks.append(self.wake)  # this process's writers; other processes' reach the leader by NOTIFY
        try:
            while not self._stopping:
                bus_ready = self.bus.connected and self.bus.topology_ready
                sweep = self.settings.outbox_sweep_seconds
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=sweep if bus_ready else min(sweep, BUS_WAIT_SECONDS))
                except TimeoutError:
                    pass
                self._wakeup.clear()
                try:
                    await self._drain()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not self.db.unavailable(exc):  # an outage is logged once, by the database
                        log.exception("outbox relay pass failed")
                    await asyncio.sleep(1)
        finally:
            _wake_callbacks.remove(self.wake)
            await self._release_leadership()

    async def _drain(self) -> None:
        if not self.bus.connected or not self.bus.topology_ready:
            return
        if not await self._lead():
            return
        while True:
            _published, batch_full, stalled = await self.publish_batch()
            if stalled or not batch_full or self._stopping:
                break

    async def _lead(self) -> bool:
        """SQLite has one process; on PostgreSQL hold an advisory lock on a dedicated connection."""
        if not self.db.is_postgres:
            self._became_leader()
            return True
        if self._lock_conn is not None:
            if time.monotonic() - self._lock_checked < LOCK_CHECK_SECONDS:
                return True  # under load a pass starts every few milliseconds: no round trip for each
            try:
                await self._lock_conn.execute(text("SELECT 1"))
                self._lock_checked = time.monotonic()
                return True
            except Exception:  # noqa: BLE001 - the lock died with its connection
                await self._release_leadership()
        # Autocommit: the lock and its checks must not leave a transaction open. A session "idle in
        # transaction" is ended by a server's idle_in_transaction_session_timeout, and the lock with it.
        conn = await (await self.db.engine.connect()).execution_options(isolation_level="AUTOCOMMIT")
        key = RELAY_LOCK_BASE + sum(self.service.encode())
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})).scalar()
        if not got:
            await conn.close()
            return False
        self._lock_conn = conn
        self._lock_checked = time.monotonic()
        # The leader hears other processes' commits (`RelayNotifier`) on the connection that holds its lock.
        await (await conn.get_raw_connection()).driver_connection.add_listener(WAKE_CHANNEL, self._notified)
        self._became_leader()
        log.info("outbox relay leads")
        return True

    def _became_leader(self) -> None:
        self.is_leader = True
        RELAY_LEADER.labels(self.service).set(1)

    def _notified(self, *_notice: object) -> None:
        self.wake()

    async def _release_leadership(self) -> None:
        if self.is_leader:
            RELAY_LEADER.labels(self.service).set(0)
        self.is_leader = False
        if self._lock_conn is not None:
            conn, self._lock_conn = self._lock_conn, None
            await _discard(conn)  # the lock and the LISTEN end with its session

    async def publish_batch(self) -> tuple[int, bool, bool]:
        """Publish the next batch in commit order; returns (published, batch was full, stopped: an event
        failed or waits for its retry, so the rest wait too). Plain rows on the driver's connection: mapping
        500 rows to objects cost more CPU than publishing them (bench/PROFILE.md)."""
        limit = self.settings.outbox_batch_size
        async with Runner.open(self.db) as run, run.transaction():
            pending = [PendingEvent(**row) for row in await run.rows(PENDING_ROWS, {"limit": limit})]
            if not pending:
                return 0, False, False
            outcome = await self._publish_in_commit_order(pending)
            if outcome.published:
                statement, marked = _mark_published(outcome.published)
                await run.rows(statement, {**marked, "published_at": outcome.at})
            if (failed := outcome.failure) is not None:
                await run.rows(MARK_FAILED, {"failed_seq": failed.event.seq, **failed.values()})
        return self._report(outcome, len(pending), limit)

    async def _publish_in_commit_order(self, pending: list[PendingEvent]) -> BatchOutcome:
        """The ordering rule of both batch paths (docs/events.md rule 1): the first unpublished event holds
        back every event committed after it, whatever their streams or aggregates. It waits for its retry
        time; once it has failed it goes out alone, and the rest follow only when the stream has it."""
        head = pending[0]
        if head.next_attempt_at > utcnow():
            return BatchOutcome(waiting=True)
        if head.attempts:
            results = await self._publish_async(pending[:1])
            if not isinstance(results[0], BaseException):
                results += await self._publish_async(pending[1:])
        else:
            results = await self._publish_async(pending)
        outcome = BatchOutcome(at=utcnow())
        for row, result in zip(pending, results, strict=False):
            if not isinstance(result, BaseException):
                # What the stream accepted is recorded so even behind a failure; _publish_async stops at the
                # first event it cannot send, so this is only a refusal by the server of one event alone.
                outcome.published.append(row.seq)
            elif outcome.failure is None:
                away = isinstance(result, TimeoutError) or not self.bus.connected
                outcome.failure = FailedPublish(row, result, outcome.at, server_away=away)
        return outcome

    def _report(self, outcome: BatchOutcome, selected: int, limit: int) -> tuple[int, bool, bool]:
        OUTBOX_PUBLISHED.labels(self.service).inc(len(outcome.published))
        if outcome.waiting:
            return 0, selected == limit, True
        self.bus.record_publish(succeeded=outcome.failure is None)
        if (failed := outcome.failure) is not None:
            OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
            # Logged at every attempt (retries back off to once a minute): a poison event shows here, in the
            # backlog and in the oldest event's age, and the events behind it are never published first.
            log.warning(
                "event not published; the events after it wait",
                extra={"event_id": failed.event.event_id, "attempts": failed.event.attempts + 1, "error": repr(failed.error)[:500]},
            )
        return len(outcome.published), selected == limit, outcome.failure is not None

    async def _publish_async(self, pending: list[PendingEvent], timeout: float = 5) -> list[object]:
        """PubAck or the exception, per event, in order, up to the first event that could not be sent (the
        rest are not sent). publish_async pipelines the batch on one connection (order kept on the wire)
        for less CPU per message than gathering publish()."""
        js = self.bus.js
        futures: list[asyncio.Future[Any] | BaseException] = []
        spans = []  # with tracing on (docs/tracing.md): a publish span per event, its traceparent a header
        tracing = tracer()
        for row in pending:
            try:
                stream_for(row.subject)  # a subject no stream holds is refused here, not sent
                headers = {"Nats-Msg-Id": row.msg_id}
                if tracing is not None:
                    spans.append(start_publish_span(tracing, row.subject, row.event_id, row.envelope, headers))
                futures.append(await js.publish_async(row.subject, row.envelope.encode(), headers=headers))
            except Exception as exc:  # noqa: BLE001 - this one did not go out, so the ones after it must not
                futures.append(exc)
                break
        waiting = [future for future in futures if isinstance(future, asyncio.Future)]
        if waiting:
            _done, late = await asyncio.wait(waiting, timeout=timeout)
            for future in late:
                future.cancel()
        results: list[object] = []
        for future in futures:
            if isinstance(future, BaseException):
                results.append(future)
            elif future.cancelled():
                results.append(TimeoutError("no PubAck in time"))
            else:
                results.append(future.exception() or future.result())
        if spans:
            end_publish_spans(spans, results)
        return results


class RelayNotifier:
    """Passes this process's wake-ups (`wake_relays`, after every commit that wrote outbox rows) on to a
    relay in another process (AIRSIDE_RELAY=external): a NOTIFY on a connection of its own, which the
    leading relay LISTENs for. Outside the writers' transactions, and one per burst: a NOTIFY inside the
    writing transaction holds PostgreSQL's cluster-wide notify lock through that commit's WAL flush, and
    concurrent commits went from about 5,000 to about 1,000 a second (bench/PROFILE.md)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending = asyncio.Event()
        self._conn: AsyncConnection | None = None

    def wake(self) -> None:
        self._pending.set()

    async def run(self) -> None:
        _wake_callbacks.append(self.wake)
        try:
            while True:
                await self._pending.wait()
                self._pending.clear()  # what commits meanwhile is told by the next NOTIFY
                try:
                    await self._notify()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - whatever failed, the relay's sweep publishes what this was for
                    await self._close()
                    if not self.db.unavailable(exc):  # an outage is logged once, by the database
                        log.warning("relay not notified; its sweep publishes", extra={"error": repr(exc)[:300]})
                    await asyncio.sleep(1)
        finally:
            _wake_callbacks.remove(self.wake)
            await self._close()

    async def _notify(self) -> None:
        if self._conn is None:
            self._conn = await (await self.db.engine.connect()).execution_options(isolation_level="AUTOCOMMIT")
        await (await self._conn.get_raw_connection()).driver_connection.execute(f"NOTIFY {WAKE_CHANNEL}")

    async def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Close a connection held for a session's lifetime, never handing it back to the pool: what its session
    held (an advisory lock, a LISTEN) ends with it, and one that failed is not reused."""
    try:
        await conn.invalidate()
        await conn.close()
    except Exception:  # noqa: BLE001 - a dead connection holds nothing any more
        pass


@dataclass(frozen=True)
class PendingEvent:
    """An outbox row waiting to be published, as the relay reads it."""

    seq: int
    event_id: str
    subject: str
    envelope: str
    attempts: int
    next_attempt_at: datetime
    republished: int

    @property
    def msg_id(self) -> str:
        # A deliberate republish needs a Nats-Msg-Id of its own: JetStream drops a repeated one inside its
        # duplicate window (docs/pitfalls.md). Consumers de-duplicate by the CloudEvent id, which stays the same.
        return f"{self.event_id}:republished:{self.republished}" if self.republished else self.event_id


@dataclass(frozen=True)
class FailedPublish:
    event: PendingEvent
    error: BaseException
    at: datetime
    # NATS not answering is no fault of the event: it is tried again in a second, not after a growing
    # delay that would keep the whole outbox waiting once the server is back.
    server_away: bool

    def values(self) -> dict[str, Any]:
        attempts = self.event.attempts + 1
        delay = retry_delay(1 if self.server_away else attempts)
        return {"attempts": attempts, "last_error": repr(self.error)[:2000], "next_attempt_at": self.at + delay}


@dataclass
class BatchOutcome:
    at: datetime | None = None
    published: list[int] = field(default_factory=list)
    failure: FailedPublish | None = None
    waiting: bool = False  # the first unpublished event waits for its retry time


# Selected by state (docs/pitfalls.md), in commit order. FOR UPDATE without SKIP LOCKED (PostgreSQL; SQLite
# has one writer): a row another transaction holds (a republish marking it, a relay handing over) is
# waited for, never jumped.
OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
PENDING_ROWS = (
    select(*(OUTBOX.c[name] for name in PendingEvent.__dataclass_fields__))
    .where(OUTBOX.c.published_at.is_(None))
    .order_by(OUTBOX.c.seq)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update()
)
MARK_FAILED = (
    update(OUTBOX)
    .where(OUTBOX.c.seq == bindparam("failed_seq", type_=OUTBOX.c.seq.type))
    .values({name: bindparam(name, type_=OUTBOX.c[name].type) for name in ("attempts", "last_error", "next_attempt_at")})
)


def _mark_published(seqs: list[int]) -> tuple[Any, dict[str, int]]:
    """The UPDATE marking these rows published, and its parameters. The statement is one of a few sizes
    (powers of two, the list padded with its last seq): compiled once each, not once per batch size."""
    size = 1 << (len(seqs) - 1).bit_length()
    padded = seqs + seqs[-1:] * (size - len(seqs))
    return _mark_published_statement(size), {f"seq_{index}": seq for index, seq in enumerate(padded)}


@functools.cache
def _mark_published_statement(size: int) -> Any:
    seqs = [bindparam(f"seq_{index}", type_=OUTBOX.c.seq.type) for index in range(size)]
    return update(OUTBOX).where(OUTBOX.c.seq.in_(seqs)).values(published_at=bindparam("published_at", type_=OUTBOX.c.published_at.type))


async def backlog(db: Database) -> tuple[int, float]:
    """Unpublished events and the age in seconds of the oldest one (for /metrics and /readyz)."""
    async with db.session() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))  # type: ignore[union-attr]
            )
        ).one()
    if not count or oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:  # an aggregate bypasses the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=utcnow().tzinfo)
    return int(count), max((utcnow() - oldest).total_seconds(), 0.0)


@dataclass(frozen=True)
class Republished:
    marked: int  # events recorded since the time, marked to be published again
    published: int  # of those, the ones the stream had accepted by the answer
    pending: int  # the rest, still in the outbox: the relay publishes them when it can


async def republish_since(db: Database, since: datetime, *, wait_seconds: float) -> Republished:
    """Publish again every event recorded since `since` (a stream rebuilt from the outbox), each under
    a new Nats-Msg-Id (`PendingEvent.msg_id`); wait up to `wait_seconds` for the relay to publish them,
    and say how many it did. Consumers' inbox tables make the repeats harmless."""
    async with db.session() as session:
        last_seq = await session.scalar(select(func.max(OutboxEvent.seq)))
        marked = OutboxEvent.created_at >= since, OutboxEvent.seq <= (last_seq or 0)  # type: ignore[operator]
        result = await session.execute(
            update(OutboxEvent)
            .where(*marked)
            .values(published_at=None, attempts=0, next_attempt_at=utcnow(), last_error=None, republished=OutboxEvent.republished + 1)
        )
        await session.commit()
    count = int(result.rowcount or 0)
    wake_relays()
    deadline = time.monotonic() + wait_seconds
    while True:
        async with db.session() as session:
            unpublished = int(await session.scalar(select(func.count()).where(*marked, OutboxEvent.published_at.is_(None))) or 0)  # type: ignore[union-attr]
        if not unpublished or time.monotonic() >= deadline:
            # An event recorded in the same instant and not marked may count as pending: never more claimed than done.
            return Republished(marked=count, published=max(count - unpublished, 0), pending=min(unpublished, count))
        await asyncio.sleep(0.1)

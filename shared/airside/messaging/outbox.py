"""Transactional outbox: events are rows committed with the state change, published by one relay.

events.md rule 1. The writer adds rows inside the business transaction; after that commit the
relay is woken at once, and a timer sweep catches anything a wake-up missed. Rows are selected
by state (never by a high-water mark), published with `Nats-Msg-Id`, and marked only after the
PubAck; housekeeping prunes them after the stream's retention. On PostgreSQL one replica leads
through an advisory lock; the others stand by.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, Integer, Text, event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from airside.db import Database, UtcDateTime, driver_connection, row_instance, utcnow
from airside.messaging.bus import Bus
from airside.messaging.envelope import CloudEvent, EventDefinition
from airside.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from airside.settings import AirsideSettings

log = logging.getLogger("airside.outbox")

# How long the leader trusts its lock connection without asking it again (a dead one frees the lock).
LOCK_CHECK_SECONDS = 1.0
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
    """The outbox row of one event, not yet added anywhere: lean write paths insert it themselves
    in their own statement (and call `wake_relays` after their commit)."""
    envelope = definition.build(payload, subject=subject, source=source or f"airside/{definition.producer}")
    now = utcnow()
    # Built like a loaded row (no per-field instrumentation); a Session still inserts it as a new one.
    values = {"event_id": envelope.id, "subject": definition.subject, "envelope": envelope.to_json().decode()}
    return row_instance(OutboxEvent, {**values, "created_at": now, "next_attempt_at": now}), envelope


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
        _wake_callbacks.append(self.wake)
        try:
            while not self._stopping:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.settings.outbox_sweep_seconds)
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
            self.is_leader = True
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
        conn = await self.db.engine.connect()
        key = RELAY_LOCK_BASE + sum(self.service.encode())
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})).scalar()
        await conn.commit()
        if got:
            self._lock_conn = conn
            self._lock_checked = time.monotonic()
            self.is_leader = True
            log.info("outbox relay leads")
            return True
        await conn.close()
        return False

    async def _release_leadership(self) -> None:
        self.is_leader = False
        if self._lock_conn is not None:
            try:
                await self._lock_conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._lock_conn = None

    async def publish_batch(self) -> tuple[int, bool, bool]:
        """Publish one batch in commit order; returns (published, batch was full, NATS stalled)."""
        if self.db.is_postgres:
            return await self._publish_batch_lean()
        limit = self.settings.outbox_batch_size
        now = utcnow()
        async with self.db.session() as session:
            rows = (
                (
                    await session.execute(
                        select(OutboxEvent)
                        .where(OutboxEvent.published_at.is_(None), OutboxEvent.next_attempt_at <= now)  # type: ignore[union-attr]
                        .order_by(OutboxEvent.seq)  # type: ignore[arg-type]
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return 0, False, False
            # Publishing concurrently keeps the order on the wire (one connection, sends in call order)
            # while not paying one round trip per event.
            results = await self._publish_async([(row.subject, row.envelope, row.event_id) for row in rows])
            published_at = utcnow()
            done: list[int] = []
            stalled = False
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    stalled = stalled or not self.bus.connected or isinstance(result, TimeoutError)
                    row.attempts += 1
                    row.last_error = repr(result)[:2000]
                    row.next_attempt_at = published_at + retry_delay(row.attempts)
                    OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                else:
                    assert row.seq is not None
                    done.append(row.seq)
            self.bus.record_publish(succeeded=len(done) == len(rows))
            if done:
                await session.execute(
                    update(OutboxEvent).where(OutboxEvent.seq.in_(done)).values(published_at=published_at)  # type: ignore[union-attr]
                )
            await session.commit()
        OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        if stalled:
            log.warning("publishing stalled; events stay in the outbox", extra={"pending_in_batch": len(rows) - len(done)})
        return len(done), len(rows) == limit, stalled

    async def _publish_batch_lean(self) -> tuple[int, bool, bool]:
        """publish_batch on PostgreSQL's driver: the same statements, without mapping 500 rows to
        objects (which cost more CPU than publishing them: bench/PROFILE.md)."""
        limit = self.settings.outbox_batch_size
        async with driver_connection(self.db.engine) as conn, conn.transaction():
            rows = await conn.fetch(PENDING_ROWS, utcnow(), limit)
            if not rows:
                return 0, False, False
            results = await self._publish_async([(subject, envelope, event_id) for _seq, event_id, subject, envelope, _attempts in rows])
            published_at = utcnow()
            done: list[int] = []
            failed: list[tuple[int, int, str, datetime]] = []
            stalled = False
            for (seq, _event_id, _subject, _envelope, attempts), result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    stalled = stalled or not self.bus.connected or isinstance(result, TimeoutError)
                    failed.append((seq, attempts + 1, repr(result)[:2000], published_at + retry_delay(attempts + 1)))
                    OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                else:
                    done.append(seq)
            self.bus.record_publish(succeeded=not failed)
            if done:
                await conn.execute("UPDATE outbox_event SET published_at = $1 WHERE seq = ANY($2::bigint[])", published_at, done)
            if failed:
                await conn.executemany(
                    "UPDATE outbox_event SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE seq = $1", failed
                )
        OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        if stalled:
            log.warning("publishing stalled; events stay in the outbox", extra={"pending_in_batch": len(failed)})
        return len(done), len(rows) == limit, stalled

    async def _publish_async(self, messages: list[tuple[str, str, str]], timeout: float = 5) -> list[object]:
        """PubAck or the exception, per message, in order. publish_async pipelines the batch on one
        connection (order kept on the wire) for less CPU per message than gathering publish()."""
        js = self.bus.js
        futures: list[asyncio.Future[Any] | BaseException] = []
        for subject, envelope, event_id in messages:
            try:
                futures.append(await js.publish_async(subject, envelope.encode(), headers={"Nats-Msg-Id": event_id}))
            except Exception as exc:  # noqa: BLE001 - this one did not go out; the rest may still
                futures.append(exc)
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
        return results


# Selected by state, in commit order, skipping rows another relay holds (pitfalls.md).
PENDING_ROWS = """
SELECT seq, event_id, subject, envelope, attempts FROM outbox_event
WHERE published_at IS NULL AND next_attempt_at <= $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
"""


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


async def republish_since(db: Database, since: datetime) -> int:
    """Mark every event recorded since `since` for publishing again (a stream rebuilt from the outbox).

    Consumers' inbox tables make the repeats harmless.
    """
    async with db.session() as session:
        result = await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.created_at >= since)  # type: ignore[operator]
            .values(published_at=None, attempts=0, next_attempt_at=utcnow(), last_error=None)
        )
        await session.commit()
    for wake in _wake_callbacks:
        wake()
    return int(result.rowcount or 0)

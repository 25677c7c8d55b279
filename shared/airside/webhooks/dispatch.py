"""The job that POSTs due deliveries to partners, signed, and records what came of each (docs/webhooks.md).

Every replica runs it. A delivery is sent by the worker that holds its lease (`next_attempt_at` moved ahead):
the fan-out of the worker's own process leases fresh deliveries to it at birth (airside.webhooks.fanout), and
a pass claims due ones, retries and replays, in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
so two replicas never take the same one). A worker that dies mid-POST leaves its lease to run out and the
delivery to come due again, so a delivery is never lost, and may arrive twice, with the same `webhook-id`.
The POSTs run concurrently, a client per slot; their outcomes are written by one recorder in batches (all that
arrived while the last batch was written), each only while its lease is still the worker's, so a late answer
never overwrites a newer attempt. A slot is free again as soon as its answer is in: it never waits for the
database.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import bindparam, func, literal, select, tuple_, update

from airside import clock
from airside.db.columns import utcnow
from airside.db.database import Database
from airside.events.webhooks import WEBHOOK_DISABLED, WebhookDisabled
from airside.messaging.outbox import record
from airside.metrics import WEBHOOK_ATTEMPT_SECONDS, WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_LAG, WEBHOOK_PENDING
from airside.settings import AirsideSettings
from airside.webhooks.claims import Claimed
from airside.webhooks.destinations import DestinationRefused, check_destination
from airside.webhooks.fanout import serve
from airside.webhooks.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from airside.webhooks.pinning import PinnedTransport, connecting_to
from airside.webhooks.signing import delivery_headers

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from airside.runtime import Runtime

log = logging.getLogger("airside.webhooks")

# Deliveries a worker holds per slot (sending or waiting for a slot): with fewer, the slots went idle between
# claims and outcome writes, and the dispatcher kept one core two-thirds busy (bench/PROFILE.md, P9).
HELD_PER_SLOT = 4
# A claim outlasts the POSTs ahead of it and its own (each at most the whole timeout) by this much before
# another worker may take the delivery.
LEASE_MARGIN_SECONDS = 5.0
# What a receiver answers is read up to this much, so its connection can be reused; more is not wanted.
RESPONSE_READ_LIMIT = 64 * 1024
ERROR_LENGTH = 300


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_at(attempts: int, delays: Sequence[float], failed_at: datetime) -> datetime | None:
    """When to try again after the `attempts`-th failed attempt; None once every delay is spent (a dead letter)."""
    if attempts > len(delays):
        return None
    return failed_at + timedelta(seconds=delays[attempts - 1])


def failing_too_long(failing_since: datetime, now: datetime, disable_after_seconds: float) -> bool:
    return (now - failing_since).total_seconds() >= disable_after_seconds


def http_clients(settings: AirsideSettings) -> list[httpx.AsyncClient]:
    """One client per slot, each keeping one connection: httpcore's pool looks at every connection it holds on
    each request, a cost that grows with the pool (bench/PROFILE.md, P9). The system's CAs and the configured
    extra one, no redirects, no proxy, connections to the checked address (the destination check decides where a
    request goes; airside.webhooks.pinning)."""
    tls = ssl.create_default_context()
    if settings.webhook_ca_file is not None:
        tls.load_verify_locations(cafile=settings.webhook_ca_file)
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    options = {"timeout": settings.webhook_timeout_seconds, "follow_redirects": False, "trust_env": False}
    return [
        httpx.AsyncClient(transport=PinnedTransport(tls, one), headers={"user-agent": "Airside-Webhooks/1"}, **options)  # type: ignore[arg-type]
        for _slot in range(settings.webhook_concurrency)
    ]


async def dispatch_webhooks(runtime: Runtime) -> None:
    """The job every service runs beside its consumers."""
    await Dispatcher(runtime.db, runtime.settings).run()


class Dispatcher:
    """Up to `webhook_concurrency` POSTs at once, and claimed deliveries waiting for a slot up to HELD_PER_SLOT
    per slot in all, so a claim takes a batch and a slot never waits for the database."""

    def __init__(self, db: Database, settings: AirsideSettings) -> None:
        self.db = db
        self.settings = settings
        self.service = settings.service_name
        self.slots = settings.webhook_concurrency
        self.holds_at_most = HELD_PER_SLOT * self.slots  # sending, waiting for a slot, or reserved by the fan-out
        # A free slot is a client of its own (http_clients), taken for one POST at a time.
        self._free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        self._wakeup = asyncio.Event()
        self._claim_asked = True
        self._claimed_at = 0.0  # time.monotonic() of the last claim
        self._claimed: set[asyncio.Task[None]] = set()
        # The fan-out's deliveries leased to this worker at birth (no claim needed): reserved while their
        # transaction is open, handed over once it committed.
        self._reserved = 0
        self._handed: list[Claimed] = []
        # Outcomes written together by the recorder, one transaction for all that arrived while it wrote the last.
        self._outcomes: list[tuple[Claimed, Attempt]] = []
        self._outcomes_waiting = asyncio.Event()

    def wake(self) -> None:
        """Deliveries are due now (owed without a lease, or replayed): claim them at once."""
        self._claim_asked = True
        self._wakeup.set()

    def lease_for(self, count: int) -> datetime | None:
        """A lease for `count` deliveries the fan-out is owing now, when this worker has room for them; else None
        and they are due for any worker's claim."""
        if len(self._claimed) + len(self._handed) + self._reserved + count > self.holds_at_most:
            return None
        self._reserved += count
        return clock.now() + timedelta(seconds=self.lease_seconds)

    def release(self, count: int) -> None:
        """The fan-out's transaction rolled back: nothing it reserved was owed."""
        self._reserved -= count

    def take(self, deliveries: list[Claimed], reserved: int) -> None:
        """The fan-out committed: `deliveries` (those not owed already) are this worker's to send."""
        self._reserved -= reserved
        self._handed.extend(deliveries)
        self._wakeup.set()

    @property
    def lease_seconds(self) -> float:
        """A claim waits for its slot at most while the deliveries held before it are sent (a round of
        requests per slot's worth), then takes at most one request itself."""
        return HELD_PER_SLOT * self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS

    async def run(self) -> None:
        stop_listening = serve(self.db.engine, self)
        clients = http_clients(self.settings)
        for client in clients:
            self._free.put_nowait(client)
        recorder = asyncio.create_task(self._record_outcomes(), name="webhook-outcomes")
        try:
            while True:
                await self._pass()
        finally:
            stop_listening()
            for task in (*self._claimed, recorder):
                task.cancel()
            await asyncio.gather(*self._claimed, recorder, return_exceptions=True)
            await asyncio.gather(*(client.aclose() for client in clients))

    async def _pass(self) -> None:
        """Send what the fan-out handed over; claim what is due when asked to (a wake-up, or a full claim last
        time) or every scheduler interval, once no more than the slots' worth is in hand; then wait."""
        self._wakeup.clear()
        handed, self._handed = self._handed, []
        for delivery in handed:
            self._start(delivery)
        if len(self._claimed) > self.slots:
            await asyncio.wait(self._claimed, return_when=asyncio.FIRST_COMPLETED)
            return
        interval = self.settings.scheduler_interval_seconds
        # Outcomes not yet written count against the room: a slow database slows the claims, it does not pile them up.
        room = self.holds_at_most - len(self._claimed) - len(self._outcomes)
        if room > 0 and (self._claim_asked or time.monotonic() - self._claimed_at >= interval):
            self._claim_asked = False
            self._claimed_at = time.monotonic()
            try:
                claimed = await self.claim(room)
                if not claimed:
                    await self._count_pending()
            except Exception as exc:
                if not self.db.unavailable(exc):  # an outage is logged once, by the database
                    log.exception("webhook dispatch pass failed")
                await asyncio.sleep(interval)
                return
            for delivery in claimed:
                self._start(delivery)
            if len(claimed) == room:
                self._claim_asked = True  # more may be due
                return
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(0.0, interval - (time.monotonic() - self._claimed_at)))
        except TimeoutError:
            pass

    def _start(self, delivery: Claimed) -> None:
        task = asyncio.create_task(self.deliver(delivery), name=f"webhook-delivery-{delivery.event_id}")
        self._claimed.add(task)
        task.add_done_callback(self._claimed.discard)

    async def claim(self, limit: int) -> list[Claimed]:
        """Take up to `limit` due deliveries of active subscriptions, oldest due first, until the lease ends."""
        now = clock.now()
        lease = now + timedelta(seconds=self.lease_seconds)
        delivery, subscription = WebhookDelivery.__table__.c, WebhookSubscription.__table__.c  # type: ignore[attr-defined]
        due = (
            select(delivery.id)
            .join_from(WebhookDelivery, WebhookSubscription, subscription.id == delivery.subscription_id)
            .where(
                delivery.status == DeliveryStatus.pending, delivery.next_attempt_at <= now, subscription.status == SubscriptionStatus.active
            )
            .order_by(delivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery.__table__)  # type: ignore[attr-defined]
            .cte("due")
        )
        claim = (
            update(WebhookDelivery)
            .where(delivery.id == due.c.id)
            .values(next_attempt_at=lease)
            .returning(delivery.subscription_id, delivery.event_id, delivery.payload, delivery.attempts, delivery.created_at)
        )
        async with self.db.session() as session:
            rows = (await session.execute(claim)).all()
            if not rows:
                return []
            ids = {row.subscription_id for row in rows}
            found = (await session.execute(select(WebhookSubscription).where(subscription.id.in_(ids)))).scalars()
            subscriptions = {row.id: row for row in found}
            await session.commit()
        return [Claimed(subscriptions[row.subscription_id], row.event_id, row.payload, row.attempts, lease, row.created_at) for row in rows]

    async def deliver(self, delivery: Claimed) -> None:
        client = await self._free.get()
        try:
            started = time.monotonic()
            attempt = await self.attempt(client, delivery)
            WEBHOOK_ATTEMPT_SECONDS.labels(self.service).observe(time.monotonic() - started)
        finally:
            self._free.put_nowait(client)
        self._outcomes.append((delivery, attempt))
        self._outcomes_waiting.set()

    async def _record_outcomes(self) -> None:
        """The recorder: every outcome that arrived while the last batch was written, in one transaction."""
        while True:
            await self._outcomes_waiting.wait()
            self._outcomes_waiting.clear()
            outcomes, self._outcomes = self._outcomes, []
            try:
                await self.record_all(outcomes)
            except Exception as exc:  # the claims' leases run out and the deliveries are attempted again
                if not self.db.unavailable(exc):
                    log.exception("webhook delivery outcomes not recorded", extra={"event_ids": [d.event_id for d, _attempt in outcomes]})
            self._wakeup.set()  # room for claims again

    async def attempt(self, client: httpx.AsyncClient, delivery: Claimed) -> Attempt:
        """One signed POST of the CloudEvent, to a destination checked first; never raises."""
        at = utcnow()
        url = delivery.subscription.url
        try:
            destination = await check_destination(url, self.settings)
        except DestinationRefused as exc:
            return Attempt(at, error=f"destination refused: {exc}"[:ERROR_LENGTH])
        headers = delivery_headers(delivery.subscription, delivery.event_id, delivery.payload, at)
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                with connecting_to(destination):  # the address just checked, not the name resolved again
                    async with client.stream("POST", url, content=delivery.payload.encode(), headers=headers) as response:
                        read = 0
                        async for chunk in response.aiter_raw():
                            read += len(chunk)
                            if read > RESPONSE_READ_LIMIT:
                                break
        except TimeoutError:
            return Attempt(at, error=f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return Attempt(at, error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH])
        code = response.status_code
        return Attempt(at, status_code=code, error=None if 200 <= code < 300 else f"HTTP {code}")

    async def record(self, delivery: Claimed, attempt: Attempt) -> None:
        await self.record_all([(delivery, attempt)])

    async def record_all(self, outcomes: list[tuple[Claimed, Attempt]]) -> None:
        """The attempts' outcomes in one transaction, each only while its claim is still this worker's, and the
        subscriptions' failing state with them."""
        now = utcnow()
        written: list[tuple[Claimed, Attempt, dict[str, object]]] = []
        async with self.db.session() as session:
            mine = await self._still_leased(session, [delivery for delivery, _attempt in outcomes])
            for delivery, attempt in outcomes:
                if (delivery.subscription.id, delivery.event_id) in mine:
                    written.append((delivery, attempt, self._outcome(delivery, attempt, now)))
            await self._write_outcomes(session, written)
            # A subscription's latest attempt says whether it is failing; subscriptions in id order, so two
            # replicas' transactions never wait on each other's rows in opposite orders.
            latest: dict[str, tuple[Claimed, Attempt]] = {}
            for delivery, attempt, _values in written:
                held = latest.get(delivery.subscription.id)
                if held is None or attempt.at >= held[1].at:
                    latest[delivery.subscription.id] = (delivery, attempt)
            for subscription_id in sorted(latest):
                delivery, attempt = latest[subscription_id]
                if attempt.delivered:
                    await self._succeeded(session, subscription_id)
                else:
                    await self._failed(session, delivery.subscription, attempt, now)
            await session.commit()
        for delivery, attempt, values in written:
            WEBHOOK_DELIVERIES.labels(self.service, self._label(values)).inc()
            if attempt.delivered:
                WEBHOOK_DELIVERY_LAG.labels(self.service).observe((now - delivery.created_at).total_seconds())
                continue
            log.warning(
                "webhook delivery attempt failed",
                extra={
                    "subscription_id": delivery.subscription.id,
                    "event_id": delivery.event_id,
                    "attempts": values["attempts"],
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "next_attempt_at": values["next_attempt_at"],
                },
            )

    def _outcome(self, delivery: Claimed, attempt: Attempt, now: datetime) -> dict[str, object]:
        attempts = delivery.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": attempt.at,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error,
        }
        if attempt.delivered:
            values.update(status=DeliveryStatus.delivered, delivered_at=now, next_attempt_at=None)
        else:
            next_at = retry_at(attempts, self.settings.webhook_retry_delays, now)
            values.update(status=DeliveryStatus.pending if next_at else DeliveryStatus.failed, next_attempt_at=next_at)
        return values

    @staticmethod
    def _label(values: dict[str, object]) -> str:
        if values["status"] == DeliveryStatus.delivered:
            return "delivered"
        return "retried" if values["status"] == DeliveryStatus.pending else "failed"

    @staticmethod
    async def _still_leased(session: AsyncSession, deliveries: list[Claimed]) -> set[tuple[str, str]]:
        """The deliveries whose lease is still this worker's, locked until the outcomes are written; one whose lease
        ran out belongs to another worker now, and its attempt is the one recorded."""
        column = WebhookDelivery.__table__.c  # type: ignore[attr-defined]
        keys = [(delivery.subscription.id, delivery.event_id, delivery.lease) for delivery in deliveries]
        query = (
            select(column.subscription_id, column.event_id)
            .where(tuple_(column.subscription_id, column.event_id, column.next_attempt_at).in_(keys))
            .where(column.status == DeliveryStatus.pending)
            .with_for_update()
        )
        return {(row.subscription_id, row.event_id) for row in await session.execute(query)}

    @staticmethod
    async def _write_outcomes(session: AsyncSession, written: list[tuple[Claimed, Attempt, dict[str, object]]]) -> None:
        """One statement for the batch, executed for each row (a Core executemany: the ORM's bulk UPDATE machinery,
        or a statement per row, costs more than the rows' writes; bench/PROFILE.md, P9)."""
        if not written:
            return
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        names = ("status", "attempts", "last_attempt_at", "last_status_code", "last_error", "delivered_at", "next_attempt_at")
        statement = (
            update(table)
            .where((table.c.subscription_id == bindparam("key_subscription")) & (table.c.event_id == bindparam("key_event")))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        rows = [
            {"key_subscription": delivery.subscription.id, "key_event": delivery.event_id}
            | {f"new_{name}": values.get(name) for name in names}  # a pending delivery has no delivered_at
            for delivery, _attempt, values in written
        ]
        await session.execute(statement, rows)

    async def _succeeded(self, session: AsyncSession, subscription_id: str) -> None:
        column = WebhookSubscription.__table__.c  # type: ignore[attr-defined]
        failing = (column.id == subscription_id) & column.failing_since.is_not(None)
        await session.execute(update(WebhookSubscription).where(failing).values(failing_since=None, updated_at=utcnow()))

    async def _failed(self, session: AsyncSession, subscription: WebhookSubscription, attempt: Attempt, now: datetime) -> None:
        """Failing since the first failure after a success; failing for the disable window, disabled, and said so."""
        column = WebhookSubscription.__table__.c  # type: ignore[attr-defined]
        noted = await session.execute(
            update(WebhookSubscription)
            .where(column.id == subscription.id)
            .values(failing_since=func.coalesce(column.failing_since, literal(attempt.at, column.failing_since.type)))
            .returning(column.failing_since, column.status, column.url)
        )
        row = noted.first()
        if row is None or row.status != SubscriptionStatus.active:
            return
        if not failing_too_long(row.failing_since, now, self.settings.webhook_disable_after_seconds):
            return
        disabled = await session.execute(
            update(WebhookSubscription)
            .where((column.id == subscription.id) & (column.status == SubscriptionStatus.active))
            .values(status=SubscriptionStatus.disabled, disabled_at=now, updated_at=now)
            .returning(column.id)
        )
        if disabled.first() is None:
            return  # another worker disabled it first, and said so
        payload = WebhookDisabled(
            subscription_id=subscription.id, url=row.url, disabled_at=now, failing_since=row.failing_since, last_error=attempt.error
        )
        record(session, WEBHOOK_DISABLED[self.service], payload, subject=subscription.id)
        log.warning("webhook subscription disabled", extra={"subscription_id": subscription.id, "failing_since": row.failing_since})

    async def _count_pending(self) -> None:
        """Idle: how many deliveries are still owed (due later, or to a disabled subscription), for /metrics."""
        async with self.db.session() as session:
            pending = await session.scalar(select(func.count()).where(WebhookDelivery.__table__.c.status == DeliveryStatus.pending))  # type: ignore[attr-defined]
        WEBHOOK_PENDING.labels(self.service).set(pending or 0)

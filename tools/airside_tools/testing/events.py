"""Reading what a service published, straight from JetStream, as another airline system would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import nats
from nats.js.api import ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError

from airside.messaging.envelope import CloudEvent, EnvelopeError, parse_envelope


async def published_events(
    nats_url: str, subject: str, *, until: Callable[[list[CloudEvent]], bool], timeout: float = 5.0
) -> list[CloudEvent]:
    """Every event on `subject` in its stream, read by an ephemeral consumer until `until` holds; bytes that
    are no event are passed over."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stream = await js.find_stream_name_by_subject(subject)
        subscription = await js.pull_subscribe(
            subject,
            durable=None,
            stream=stream,
            config=ConsumerConfig(name=f"probe-{uuid.uuid4().hex[:8]}", deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        seen: list[CloudEvent] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while not until(seen):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"events on {subject} never satisfied the expectation; saw {[event.type for event in seen][-10:]}")
            try:
                messages = await subscription.fetch(500, timeout=min(remaining, 0.5))
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for message in messages:
                try:
                    seen.append(parse_envelope(message.data))
                except EnvelopeError:
                    pass  # the poison the fault tests publish beside the events: not an event to wait for
                await message.ack()
        return seen
    finally:
        await nc.close()


async def consumer_state(nats_url: str, stream: str, durable: str) -> tuple[int, ConsumerInfo | None]:
    """The last sequence of `stream` and what JetStream holds of the durable consumer `durable`
    (None until the service has declared it)."""
    nc = await nats.connect(servers=nats_url.split(","))
    try:
        js = nc.jetstream()
        last = (await js.stream_info(stream)).state.last_seq
        try:
            return last, await js.consumer_info(stream, durable)
        except NotFoundError:
            return last, None
    finally:
        await nc.close()


async def acknowledged_everything(nats_url: str, stream: str, durable: str) -> bool:
    """The durable consumer has acknowledged every message of `stream` up to its last one. A consumer acks
    only after the event's effects committed (or it was parked), so nothing it was sent is lost or pending."""
    last, info = await consumer_state(nats_url, stream, durable)
    return info is not None and info.ack_floor.stream_seq == last and info.num_ack_pending == 0 and info.num_pending == 0


async def unacknowledged(nats_url: str, stream: str, durable: str) -> int | None:
    """How many messages JetStream delivered to `durable` that it has not acknowledged yet (None for none):
    a consumer killed while this is set was killed in the middle of a batch."""
    _last, info = await consumer_state(nats_url, stream, durable)
    return (info.num_ack_pending if info else 0) or None

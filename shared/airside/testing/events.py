"""Reading what a service published, straight from JetStream, as another airline system would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from airside.messaging.envelope import CloudEvent, parse_envelope


async def published_events(
    nats_url: str, subject: str, *, until: Callable[[list[CloudEvent]], bool], timeout: float = 5.0
) -> list[CloudEvent]:
    """Every event on `subject` in its stream, read by an ephemeral consumer until `until` holds."""
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
                seen.append(parse_envelope(message.data))
                await message.ack()
        return seen
    finally:
        await nc.close()

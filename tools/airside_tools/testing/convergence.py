"""One aggregate's events delivered in any order and any number of times (docs/events.md rule 4, R10).

A plan says how a consumer sees a journey's events: a permutation of them, with extra deliveries
mixed in (the same event again, as a redelivery or a dead-letter replay brings it, or the same
news under a new event id, as a re-announcement or a republish brings it), cut into batches the
way the inbox applies runs of first deliveries in one transaction. Hypothesis drives the plans from
a worker thread while the service under test keeps running on the test's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airside.messaging.envelope import CloudEvent
from airside.messaging.inbox import Consumer

EXAMPLES_ENV = "AIRSIDE_CONVERGENCE_EXAMPLES"


def examples(default: int) -> int:
    """Examples per property: bounded for `make test`; AIRSIDE_CONVERGENCE_EXAMPLES=500 for a longer run."""
    return int(os.environ.get(EXAMPLES_ENV, default))


@dataclass(frozen=True)
class Delivery:
    index: int  # into the journey's events
    new_id: bool = False  # the same news under another event id


Plan = list[list[Delivery]]  # batches, each applied in one transaction


def in_order(count: int) -> Plan:
    return [[Delivery(index)] for index in range(count)]


@st.composite
def plans(draw: st.DrawFn, count: int, *, extra: int | None = None) -> Plan:
    """Any order of `count` events, up to `extra` (default `count`) more deliveries, any batching."""
    deliveries = [Delivery(index) for index in draw(st.permutations(range(count)))]
    for _ in range(draw(st.integers(0, count if extra is None else extra))):
        again = Delivery(draw(st.integers(0, count - 1)), new_id=draw(st.booleans()))
        deliveries.insert(draw(st.integers(0, len(deliveries))), again)
    cuts = sorted(draw(st.sets(st.integers(1, len(deliveries) - 1), max_size=len(deliveries) - 1))) if len(deliveries) > 1 else []
    edges = [0, *cuts, len(deliveries)]
    return [deliveries[start:end] for start, end in itertools.pairwise(edges)]


async def deliver(consumer: Consumer, events: Sequence[CloudEvent], plan: Plan) -> None:
    """Through the consumer's own inbox path: a batch of one as `handle` applies it, longer ones as a run."""
    for batch in plan:
        run = [_delivered(events[delivery.index], delivery) for delivery in batch]
        if len(run) == 1:
            await consumer.apply(run[0])
        else:
            await consumer.apply_all(run)


def _delivered(event: CloudEvent, delivery: Delivery) -> CloudEvent:
    return event.model_copy(update={"id": str(uuid.uuid4())}) if delivery.new_id else event


def anonymised(value: Any, names: dict[str, str]) -> Any:
    """The state with one world's ids replaced by their roles, so two worlds compare equal."""
    if isinstance(value, dict):
        return {key: anonymised(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [anonymised(item, names) for item in value]
    if isinstance(value, str):
        for real, role in names.items():
            value = value.replace(real, role)
    return value


def assert_same(actual: Any, expected: Any, context: str) -> None:
    """Fail naming every path where the delivered world differs from the in-order one."""
    differences = list(_differences(actual, expected, ""))
    assert not differences, f"{context}: " + "; ".join(differences)


def _differences(actual: Any, expected: Any, path: str) -> Any:
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected), key=str):
            yield from _differences(actual.get(key), expected.get(key), f"{path}.{key}")
    elif isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            yield from _differences(left, right, f"{path}[{index}]")
    elif actual != expected:
        yield f"{path or 'state'} is {actual!r}, in order {expected!r}"


async def check_property(strategy: st.SearchStrategy[Any], check: Callable[[Any], Awaitable[None]], *, max_examples: int) -> None:
    """Run `check` for each example hypothesis draws, on the calling event loop (where the service runs)."""
    loop = asyncio.get_running_loop()

    @settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def property_(example: Any) -> None:
        asyncio.run_coroutine_threadsafe(check(example), loop).result()

    await asyncio.to_thread(property_)

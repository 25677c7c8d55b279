"""Which of a service's events a subscription's `event_types` select (docs/webhooks.md).

A filter is an event type (`airside.booking.order.created`), a prefix ending in `.*` that selects every type
below it at any depth (`airside.booking.order.*`), or `*` for all of the service's events.
"""

from __future__ import annotations

import re

import airside.events  # noqa: F401 - defines every event type, so the service's own are known
from airside.messaging.envelope import REGISTRY

FILTER_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


def matches(event_types: list[str], event_type: str) -> bool:
    for selector in event_types:
        if selector == "*" or selector == event_type:
            return True
        if selector.endswith(".*") and event_type.startswith(selector[:-1]):
            return True
    return False


def own_event_types(service: str) -> list[str]:
    """The event types `service` produces, the only ones it delivers."""
    return sorted(type_ for type_, definition in REGISTRY.items() if definition.producer == service)


def filter_problems(service: str, event_types: list[str]) -> list[str]:
    """What is wrong with each filter, for a 422 naming it; empty when all select something this service delivers."""
    own = own_event_types(service)
    problems = []
    for index, selector in enumerate(event_types):
        if not FILTER_PATTERN.match(selector):
            problems.append(f"event_types[{index}]: {selector!r} is not an event type, a prefix ending in '.*', or '*'")
        elif not any(matches([selector], type_) for type_ in own):
            problems.append(f"event_types[{index}]: {selector!r} selects none of the events {service} publishes")
    return problems

"""Every event Airside emits or consumes: typed payloads, one definition for producer and consumers."""

from airside.events import booking, callcenter, flights, lounge
from airside.messaging.envelope import REGISTRY

__all__ = ["REGISTRY", "booking", "callcenter", "flights", "lounge"]

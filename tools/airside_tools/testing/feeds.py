"""A live feed's client for tests: reads a Server-Sent Events stream over real HTTP (docs/feeds.md).

httpx's ASGITransport buffers a whole response, so feeds are read from a service process only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from airside_tools.testing.harness import wait_for


@dataclass(frozen=True)
class Frame:
    event: str
    data: Any
    id: str | None = None


@dataclass
class FeedReader:
    """Opens `url` (with `headers`) in a task of its own and keeps every frame; `closed` once the server ends it."""

    http: httpx.AsyncClient
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    status: int | None = None
    body: str = ""
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FeedReader:
        self._task = asyncio.create_task(self._read())
        await wait_for(lambda: asyncio.sleep(0, self.status is not None), timeout=10, what=f"an answer from {self.url}")
        if self.status == 200:
            await self.frame(lambda frame: frame.event == "ready")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async with self.http.stream("GET", self.url, headers=self.headers, timeout=httpx.Timeout(10, read=None)) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    self.body = (await response.aread()).decode()
                    return
                fields: dict[str, str] = {}
                async for line in response.aiter_lines():
                    if line == "":
                        if "event" in fields or "data" in fields:
                            self.frames.append(
                                Frame(fields.get("event", "message"), json.loads(fields.get("data", "null")), fields.get("id"))
                            )
                        fields = {}
                    elif not line.startswith(":"):  # a comment is a heartbeat
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        finally:
            self.closed.set()

    @property
    def changes(self) -> list[Frame]:
        """The change frames (not ready, reset or expired)."""
        return [frame for frame in self.frames if frame.id is not None and frame.event not in ("ready", "reset", "expired")]

    async def frame(self, matches: Callable[[Frame], bool], timeout: float = 10) -> Frame:
        """The first frame that matches, once it has come."""

        async def found() -> Frame | None:
            return next((frame for frame in self.frames if matches(frame)), None)

        return await wait_for(found, timeout=timeout, what=f"a frame from {self.url}")  # type: ignore[no-any-return]

    def position(self) -> int:
        return int(next(frame for frame in self.frames if frame.event == "ready").data["position"])


def about(event_type: str, key: str, record_id: str) -> Callable[[Frame], bool]:
    """A change frame of `event_type` whose payload's `key` object has `record_id` (e.g. visit, ticket, order)."""
    return lambda frame: frame.event == event_type and frame.data["data"][key]["id"] == record_id

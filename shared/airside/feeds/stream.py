"""A live feed's HTTP side: the SSE response, its frames, resume and token expiry (docs/feeds.md).

A route authorises the caller exactly as the resource's own GET does, builds the caller's view (which
events it may see, and which take a resource out of its view) and hands both to `open_feed`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, ClassVar

import orjson
from fastapi import Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from airside.feeds.hub import End, FeedClient, FeedEvent, FeedHub, Resume, View
from airside.problems import Problem, invalid


class FeedResponse(EventSourceResponse):
    """A live feed's response; `airside.auth` takes `?access_token=` on routes answering with it."""

    takes_query_token: ClassVar[bool] = True


# One frame of a feed, as the OpenAPI document describes each event of a text/event-stream (docs/feeds.md).
FRAME_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "description": "`ready`, `reset`, `expired`, or a change's CloudEvent type"},
        "data": {"type": "string", "description": "One line of JSON: `{position}`, or the CloudEvent envelope with `feed`"},
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The stream sequence: send it back as Last-Event-ID"},
    },
}
# The OpenAPI answer of every feed route: a stream of frames.
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `ready`, then change frames (`id` = stream sequence), `reset`, `expired` (docs/feeds.md).",
        "content": {"text/event-stream": {"schema": FRAME_SCHEMA, "example": {"event": "ready", "id": "42", "data": '{"position":42}'}}},
    },
    503: {"description": "The feed is not connected to its event stream yet: retry after the seconds in Retry-After."},
}

AccessToken = Annotated[
    str | None,
    Query(
        alias="access_token",
        max_length=4096,
        description="The bearer token, for a browser's EventSource, which cannot send the Authorization header. Never logged.",
    ),
]


def feed_hub(request: Request) -> FeedHub:
    hub: FeedHub | None = request.app.state.runtime.feed
    assert hub is not None, "feed routes belong to services writing a stream of their own"
    return hub


FeedHubDep = Annotated[FeedHub, Depends(feed_hub)]


def last_event_id(
    last_event_id: Annotated[str | None, Header(max_length=20, description="The id of the last frame received")] = None,
) -> int | None:
    if last_event_id is None or last_event_id == "":
        return None
    if not last_event_id.isdecimal():
        raise invalid("Last-Event-ID", "must be the id of a frame this feed sent (a stream sequence)")
    return int(last_event_id)


LastEventId = Annotated[int | None, Depends(last_event_id)]


def _frame(event: FeedEvent, extra: dict[str, Any]) -> bytes:
    """The change's frame, encoded once for all the clients whose view adds the same keys (a thousand boards
    watching one lounge share one encoding; docs/feeds.md, Limits)."""
    key = orjson.dumps(extra, option=orjson.OPT_SORT_KEYS)
    frame = event.frames.get(key)
    if frame is None:
        frame = event.frames[key] = ServerSentEvent(data=event.data(extra), event=event.event.type, id=str(event.sequence)).encode()
    return frame


def _mark(kind: str, position: int, *, with_id: bool = True) -> ServerSentEvent:
    return ServerSentEvent(data=orjson.dumps({"position": position}).decode(), event=kind, id=str(position) if with_id else None)


async def open_feed(request: Request, hub: FeedHub, view: View, resume_after: int | None) -> FeedResponse:
    """The caller's stream: `ready`, a `reset` or the frames it missed, then live frames until its token expires."""
    settings = request.app.state.runtime.settings
    if not hub.loaded.is_set():
        try:
            await asyncio.wait_for(hub.loaded.wait(), timeout=settings.feed_load_wait_seconds)
        except TimeoutError:
            detail = "the live feed is not connected to its event stream yet; retry shortly"
            raise Problem(503, "unavailable", detail, title="Service unavailable", headers={"Retry-After": "5"}) from None
    client, resume = hub.join(view, resume_after)
    expires: float = request.state.token_expires
    closes = time.time() + settings.feed_max_seconds
    heartbeat = settings.feed_heartbeat_seconds
    # A send blocked this long (the client's socket full) ends the stream too: it is not reading.
    frames = _frames(hub, client, resume, resume_after, expires, closes)
    return FeedResponse(frames, ping=heartbeat, send_timeout=2 * heartbeat)


async def _frames(
    hub: FeedHub, client: FeedClient, resume: Resume, resume_after: int | None, expires: float, closes: float
) -> AsyncIterator[ServerSentEvent | bytes]:
    # One timer per stream ends it (not one per frame waited for): at the token's expiry, or at `closes`.
    end = End.expired if expires <= closes else End.closed
    timer = asyncio.get_running_loop().call_later(max(0.0, min(expires, closes) - time.time()), hub.end, client, end)
    try:
        # On a resume `ready` carries no id: a connection lost before the missed frames keeps the client's own.
        yield _mark("ready", resume.position, with_id=resume_after is None)
        if resume.reset:
            yield _mark("reset", resume.position)
        for event in resume.backlog:
            extra = client.view(event)
            if extra is not None:
                yield _frame(await hub.complete(event), extra)
        while True:
            queued = await client.queue.get()
            if isinstance(queued, End):
                if queued is End.expired:
                    yield _mark("expired", hub.position, with_id=False)
                return  # closed or dropped, without a frame: the client reconnects with its Last-Event-ID
            yield _frame(*queued)  # offered live, so completed as the hub took it (FeedHub._take)
    finally:
        timer.cancel()
        hub.leave(client)

"""One JetStream subscription per service process, fanned out in memory to the feed clients (docs/feeds.md).

The hub reads the service's own stream with an ordered consumer (ephemeral, in memory on the server,
never one per browser). It keeps the newest `feed_window` events so a client reconnecting with
`Last-Event-ID` gets what it missed; on start it reads that window back from JetStream, so a resume
survives a restart of the process. Each client has a bounded queue: one that falls that far behind
is dropped, never buffered without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from airside.messaging.bus import Bus
from airside.messaging.envelope import CloudEvent, EnvelopeError, parse_envelope
from airside.messaging.streams import StreamSpec
from airside.metrics import FEED_CLIENTS, FEED_DROPPED

log = logging.getLogger("airside.feeds")

# Derived keys a service adds to an event once per process (the "feed" object of a frame), e.g. SLA due times:
# worked out as the event is taken while any client is connected, else when a client resuming is first sent it
# (FeedHub.complete), never for events no client is sent.
Enricher = Callable[[CloudEvent], Awaitable[dict[str, Any]]]
# A client's view of one event: None when the client may not see it, else keys it adds to "feed" (e.g. leaves).
View = Callable[["FeedEvent"], dict[str, Any] | None]


@dataclass(eq=False)
class FeedEvent:
    sequence: int  # the stream sequence: the frame's id, what Last-Event-ID sends back
    event: CloudEvent
    envelope: dict[str, Any]  # the envelope as published, parsed once
    feed: dict[str, Any] = field(default_factory=dict)  # what the service's enricher adds, once `enriched`
    enriched: bool = False
    # The frame as sent, by the keys a view added: encoded once for every client whose view adds the same.
    frames: dict[bytes, bytes] = field(default_factory=dict, repr=False)

    def data(self, extra: dict[str, Any]) -> str:
        derived = {**self.feed, **extra}
        return orjson.dumps({**self.envelope, "feed": derived} if derived else self.envelope).decode()


class End(Enum):
    """What a client's queue ends with: its stream closes (and, on `expired`, says why first)."""

    dropped = "dropped"  # it did not read, or the process stops: the browser reconnects
    expired = "expired"  # its token expired
    closed = "closed"  # the longest a stream is kept open (feed_max_seconds): the client reconnects


# A frame waiting in a client's queue: the event and the keys the client's view added.
Queued = tuple[FeedEvent, dict[str, Any]]


@dataclass(eq=False)
class FeedClient:
    view: View
    queue: asyncio.Queue[Queued | End]
    dropped: bool = False


@dataclass
class Resume:
    """What a new client starts from: the events to replay, or `reset` when its id is out of reach."""

    position: int
    backlog: list[FeedEvent] = field(default_factory=list)
    reset: bool = False


class FeedHub:
    def __init__(self, bus: Bus, stream: StreamSpec, *, window: int, client_queue: int, enrich: Enricher | None = None) -> None:
        self.bus = bus
        self.stream = stream
        self.service = bus.service
        self.client_queue = client_queue
        self.enrich = enrich
        self.window: deque[FeedEvent] = deque(maxlen=window)
        self.position = 0  # the newest sequence seen
        self.floor = 0  # every event after this sequence is in the window
        self.loaded = asyncio.Event()  # the window has been read back from JetStream
        self.clients: set[FeedClient] = set()
        self._stream_created: datetime | None = None  # when the stream read was created: another time is another stream
        self._subscription: JetStreamContext.PushSubscription | None = None
        self._declared = asyncio.Event()  # the bus declared the streams: the subscription may start
        bus.on_ready(self._on_declared)

    async def _on_declared(self) -> None:
        """After every (re)connect: a stream created anew (NATS back from an empty store) ends the subscription,
        which the ordered consumer would otherwise carry on at the old sequence; `_follow` then starts over."""
        self._declared.set()
        if self._subscription is not None and self._stream_created is not None:
            info = await self.bus.js.stream_info(self.stream.name)
            if info.created != self._stream_created:
                await self._subscription.unsubscribe()

    # --- clients ---------------------------------------------------------------------------------

    def join(self, view: View, last_event_id: int | None) -> tuple[FeedClient, Resume]:
        """Register a client and hand it its backlog in one step (nothing can arrive in between)."""
        client = FeedClient(view=view, queue=asyncio.Queue(maxsize=self.client_queue))
        resume = Resume(position=self.position)
        if last_event_id is not None:
            if last_event_id < self.floor or last_event_id > self.position:
                resume.reset = True
            else:
                resume.backlog = [event for event in self.window if event.sequence > last_event_id]
        self.clients.add(client)
        FEED_CLIENTS.labels(self.service).set(len(self.clients))
        return client, resume

    def leave(self, client: FeedClient) -> None:
        self.clients.discard(client)
        FEED_CLIENTS.labels(self.service).set(len(self.clients))

    def _offer(self, event: FeedEvent) -> None:
        """Each client's view decides once, here, whether the event is for it: a queue holds only its frames."""
        for client in list(self.clients):
            extra = client.view(event)
            if extra is None:
                continue
            try:
                client.queue.put_nowait((event, extra))
            except asyncio.QueueFull:
                self.end(client, End.dropped)
                client.dropped = True
                FEED_DROPPED.labels(self.service).inc()
                log.info("feed client dropped: it did not read", extra={"position": self.position})

    def end(self, client: FeedClient, end: End) -> None:
        """Free what it holds and wake it with the end mark: its stream closes."""
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(end)
        self.leave(client)

    # --- the subscription ------------------------------------------------------------------------

    async def run(self) -> None:
        """Read the stream for ever; a failed subscription (NATS away, stream recreated) starts again."""
        delay = 0.5
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS away or the stream gone: read again later
                log.warning("feed subscription failed, retrying", extra={"error": repr(exc), "stream": self.stream.name})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _follow(self) -> None:
        await self._declared.wait()
        js = self.bus.js
        info = await js.stream_info(self.stream.name)
        state, head = info.state, info.state.last_seq
        if (self._stream_created is not None and info.created != self._stream_created) or head < self.position:
            self._stream_recreated()
        self._stream_created = info.created
        # Continue after what is held; on first start read the window back from the stream.
        start = max(self.position + 1, state.first_seq, head - (self.window.maxlen or 1) + 1, 1)
        if not self.window:
            self.floor = start - 1
        if start > self.position + 1 and self.window:  # events were lost while away: older ids must reset
            self.window.clear()
            self.floor = start - 1
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
        subscription = self._subscription = await js.subscribe(
            self.stream.subjects[0], stream=self.stream.name, ordered_consumer=True, config=config
        )
        if head < start:
            self.loaded.set()
        try:
            async for message in subscription.messages:
                sequence = message.metadata.sequence.stream
                await self._take(sequence, message.data)
                if sequence >= head:
                    self.loaded.set()
        finally:
            self._subscription = None
            try:
                await subscription.unsubscribe()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass

    def _stream_recreated(self) -> None:
        """The stream is behind what was read (NATS restarted from an empty store, the stream declared again): its
        sequences start over, so the window and every id handed out mean nothing now. The clients are ended: they
        reconnect, and their Last-Event-ID, ahead of the new stream, gets `reset`."""
        log.warning("feed stream recreated: clients reconnect and reload", extra={"stream": self.stream.name, "position": self.position})
        self.window.clear()
        self.position = self.floor = 0
        for client in list(self.clients):
            self.end(client, End.dropped)

    async def _take(self, sequence: int, raw: bytes) -> None:
        if sequence <= self.position:
            return  # already held (a resubscription overlapping what was read)
        try:
            event = parse_envelope(raw)
        except EnvelopeError:
            self.position = sequence  # not an event: nothing to show, but its id is a position all the same
            return
        item = FeedEvent(sequence=sequence, event=event, envelope=orjson.loads(raw))
        if self.clients:  # read now, as the event is taken: what it describes is what the service holds (an occupancy after it)
            await self.complete(item)
        if len(self.window) == self.window.maxlen:
            self.floor = self.window[0].sequence
        self.window.append(item)
        self.position = sequence
        self._offer(item)

    async def complete(self, item: FeedEvent) -> FeedEvent:
        """The event with what the service adds to it, worked out once. An event taken while no client was connected
        costs no read until a resuming client is sent it (the call center's enricher reads the ticket, and a claim
        makes several events); two clients resuming at once may both read it, and the later read is kept."""
        if self.enrich is None or item.enriched:
            return item
        try:
            item.feed = await self.enrich(item.event)
        except Exception:
            log.exception("feed enrichment failed", extra={"event_type": item.event.type})
        item.enriched = True
        return item

    async def close(self) -> None:
        """End every client's stream (the process stops): they reconnect elsewhere with their Last-Event-ID."""
        for client in list(self.clients):
            self.end(client, End.dropped)

"""Draining on SIGTERM (docs/testing.md R11, docs/pitfalls.md).

uvicorn, on SIGTERM, closes its listener and every connection not mid-response at once, so
requests a client had already sent on a keep-alive connection get no answer. We stand in front
of its handler: SIGTERM first flips readiness to 503 and marks every response `Connection:
close` (clients move off their keep-alive connections), the listener keeps serving for
`drain_seconds`, and only then does uvicorn's graceful shutdown run (requests in flight finish,
bounded by `--timeout-graceful-shutdown`), after which the lifespan stops the relay and the
consumers once their batch is done. A second SIGTERM skips the rest of the drain; SIGINT
(Ctrl-C) stays uvicorn's immediate graceful stop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("airside.shutdown")

SignalHandler = Callable[[int, FrameType | None], Any]


class Drain:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.draining = False
        self._server_handler: SignalHandler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._handed_over = False

    def install(self) -> None:
        """Chain in front of the server's SIGTERM handler. Only where a server installed one (uvicorn
        does before the lifespan starts); in-process tests have none and nothing to drain."""
        if threading.current_thread() is not threading.main_thread():
            return
        current = signal.getsignal(signal.SIGTERM)
        if not callable(current):
            return
        self._server_handler = current
        self._loop = asyncio.get_running_loop()
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def uninstall(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._server_handler is not None and signal.getsignal(signal.SIGTERM) == self._on_sigterm:
            signal.signal(signal.SIGTERM, self._server_handler)

    def _on_sigterm(self, _signum: int, _frame: FrameType | None) -> None:
        # A signal handler: set the flag (readiness drops now) and leave the rest to the event loop. It runs
        # in whatever context the interrupted code had, a request's perhaps: the drain's own context is
        # empty, or its log lines would carry that request's correlation id.
        assert self._loop is not None
        if self.draining:
            self._loop.call_soon_threadsafe(self._hand_over, context=contextvars.Context())
            return
        self.draining = True
        self._loop.call_soon_threadsafe(self._start, context=contextvars.Context())

    def _start(self) -> None:
        assert self._loop is not None
        log.info("SIGTERM: readiness is 503, serving on while draining", extra={"drain_seconds": self.seconds})
        self._timer = self._loop.call_later(self.seconds, self._hand_over)

    def _hand_over(self) -> None:
        if self._handed_over or self._server_handler is None:
            return
        self._handed_over = True
        if self._timer is not None:
            self._timer.cancel()
        log.info("drain over: the server stops accepting and finishes the requests in flight")
        self._server_handler(signal.SIGTERM, None)


class CloseWhileDraining:
    """`Connection: close` on every response sent while draining, so keep-alive clients reconnect
    (to another replica, or to this one while it still listens) instead of reusing a closing connection."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and self.drain.draining:
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_closing)

"""A delivery's connection goes to the address its destination was checked at (docs/webhooks.md).

The URL keeps its host name, so the connection pool, the TLS server name and the certificate check are
the host's; only the TCP connect is sent to the checked address instead of resolving the name again, so
a name that resolves elsewhere after the check (DNS rebinding) cannot move a delivery to a private address.
httpx takes no network backend of its own: the transport's pool is httpcore's, built with one.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from airside.webhooks.destinations import Destination

# Host name -> the address to connect to, for the request being sent in this task.
_PINNED: ContextVar[dict[str, str] | None] = ContextVar("airside_webhook_pinned", default=None)


@contextmanager
def connecting_to(destination: Destination) -> Iterator[None]:
    """Within this block, a new connection to the destination's host goes to the address it was checked at."""
    if destination.address is None:
        yield
        return
    token = _PINNED.set({destination.url.raw_host.decode("ascii"): str(destination.address)})
    try:
        yield
    finally:
        _PINNED.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()  # what httpcore uses on asyncio when given none

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = (_PINNED.get() or {}).get(host, host)
        return await self._backend.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._backend.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport with no proxy, its connections made by PinnedBackend."""

    def __init__(self, tls: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=tls, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )

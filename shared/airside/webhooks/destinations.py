"""Where a webhook may be sent: an HTTPS URL whose host resolves only to public addresses, unless
AIRSIDE_WEBHOOK_ALLOW_HOSTS names the host or a network holding the address (docs/webhooks.md).

Checked when a subscription is registered and again before each delivery, since what a name
resolves to can change in between; a delivery then connects to the address it checked, so a name that
resolves elsewhere a moment later (DNS rebinding) cannot move the request to a private address.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from airside.settings import AirsideSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2000
MAX_PORT = 65535
# A registration waits this long for the host's addresses; a name that does not resolve by then is refused.
RESOLVE_TIMEOUT_SECONDS = 3.0
ALLOW_SETTING = "AIRSIDE_WEBHOOK_ALLOW_HOSTS"
# The address kinds a partner's endpoint is never on, in the order they are named (the first that applies).
NON_PUBLIC_KINDS = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")


class DestinationRefused(ValueError):
    """The URL is not one a webhook may be sent to; the message says why, for the caller."""


@dataclass(frozen=True)
class Allowlist:
    """AIRSIDE_WEBHOOK_ALLOW_HOSTS read: host names (compared case-insensitively) and networks."""

    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        hosts, networks = set(), []
        for entry in (entry.strip() for entry in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_host_key(entry))
        return cls(frozenset(hosts), tuple(networks))

    def names(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def holds(self, address: IPAddress) -> bool:
        return any(reading in network for network in self.networks for reading in _readings(address))


@functools.cache  # read before every delivery: parsed once per value of the setting
def configured_allowlist(entries: tuple[str, ...]) -> Allowlist:
    return Allowlist.parse(entries)


def _host_key(host: str) -> str:
    return host.lower().rstrip(".")


def _readings(address: IPAddress) -> tuple[IPAddress, ...]:
    """Where the address leads: an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is its IPv4 address, and a 6to4
    one (2002::/16) is itself and the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return (address.ipv4_mapped,)
        if address.sixtofour is not None:
            return (address, address.sixtofour)
    return (address,)


def non_public_kind(address: IPAddress) -> str | None:
    """Why no webhook goes to this address (`loopback`, `private`, ...), or None for a public one."""
    for reading in _readings(address):
        for kind in NON_PUBLIC_KINDS:
            if getattr(reading, f"is_{kind}"):
                return kind.replace("_", "-")
        if not reading.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT: no one's public endpoint
            return "non-global"
    return None


def refusal(address: IPAddress, allowlist: Allowlist) -> str | None:
    """The rule for one resolved address: why it is refused, or None when it is public or allowlisted."""
    kind = non_public_kind(address)
    if kind is None or allowlist.holds(address):
        return None
    return kind


def parse_destination(url: str) -> httpx.URL:
    """The URL as httpx reads it, when it has the shape of a destination: https, a host, no user info; else
    DestinationRefused. Read by the client that sends the deliveries, so the host checked is the host called."""
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise DestinationRefused("the URL must be visible ASCII: write an international host name in its xn-- form")
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DestinationRefused(f"the URL cannot be read: {exc}") from exc
    if parts.scheme != "https":
        raise DestinationRefused("the URL must start with https:// (webhooks are sent over TLS only)")
    if parts.userinfo:
        raise DestinationRefused("the URL must not carry a user name or password: the signature authenticates each delivery")
    if not parts.host:
        raise DestinationRefused("the URL names no host")
    if parts.fragment:
        raise DestinationRefused("the URL must not have a #fragment: it is never sent")
    if parts.port is not None and not 0 < parts.port <= MAX_PORT:
        raise DestinationRefused(f"the URL's port is not a number from 1 to {MAX_PORT}")
    return parts


def literal(host: str) -> IPAddress | None:
    """The address a host written as one (`127.0.0.1`, `::1` from `[::1]`) is; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (itself, for an IP literal); DestinationRefused if it does not resolve in time."""
    if (address := literal(host)) is not None:
        return [address]
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"the host {host} does not resolve: {exc}") from exc
    except TimeoutError as exc:
        raise DestinationRefused(f"the host {host} did not resolve within {RESOLVE_TIMEOUT_SECONDS:g} s") from exc
    # The scope of a link-local IPv6 address (`fe80::1%eth0`) is no part of the address.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found))


@dataclass(frozen=True)
class Destination:
    """A checked URL, and the address a delivery to it connects to (airside.webhooks.pinning): the first the host
    resolved to when checked; None for a host allowed by its name, which is resolved as usual, or written as an address."""

    url: httpx.URL
    address: IPAddress | None = None


async def check_destination(url: str, settings: AirsideSettings) -> Destination:
    """Refuse (DestinationRefused) a URL a webhook may not be sent to: not https, or a host that does not
    resolve, or resolves to any loopback, private, link-local, multicast, reserved or unspecified address
    that AIRSIDE_WEBHOOK_ALLOW_HOSTS does not allow (by the host's name, or a CIDR holding the address)."""
    parts = parse_destination(url)
    host = parts.raw_host.decode("ascii")  # an IPv6 literal without its brackets
    allowlist = configured_allowlist(tuple(settings.webhook_allow_hosts))
    if allowlist.names(host):
        return Destination(parts)
    addresses = await resolve(host, parts.port or 443)
    for address in addresses:
        if (kind := refusal(address, allowlist)) is not None:
            resolved = "is" if literal(host) is not None else f"resolves to {address},"
            raise DestinationRefused(
                f"the host {host} {resolved} a {kind} address: webhooks go to public addresses only, "
                f"unless {ALLOW_SETTING} names the host or a CIDR holding the address"
            )
    return Destination(parts, None if literal(host) is not None else addresses[0])

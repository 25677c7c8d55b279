"""Where a webhook may go (docs/webhooks.md, "Destinations"): the address rule as a table, the URL's shape,
and the whole check with the machine's own resolver."""

from __future__ import annotations

import ipaddress

import pytest

from airside.settings import AirsideSettings
from airside.webhooks.destinations import Allowlist, DestinationRefused, check_destination, refusal

NOTHING_ALLOWED = Allowlist.parse([])
TEN_SLASH_EIGHT = Allowlist.parse(["10.0.0.0/8", "fd00::/8"])

# address, allowlist, the kind it is refused as (None: allowed)
ADDRESSES = [
    ("8.8.8.8", NOTHING_ALLOWED, None),
    ("2606:4700::1111", NOTHING_ALLOWED, None),
    ("127.0.0.1", NOTHING_ALLOWED, "loopback"),
    ("127.8.9.10", NOTHING_ALLOWED, "loopback"),
    ("::1", NOTHING_ALLOWED, "loopback"),
    ("10.1.2.3", NOTHING_ALLOWED, "private"),
    ("172.16.0.1", NOTHING_ALLOWED, "private"),
    ("192.168.1.1", NOTHING_ALLOWED, "private"),
    ("fd12:3456::1", NOTHING_ALLOWED, "private"),
    ("169.254.169.254", NOTHING_ALLOWED, "link-local"),  # the cloud metadata service
    ("fe80::1", NOTHING_ALLOWED, "link-local"),
    ("224.0.0.1", NOTHING_ALLOWED, "multicast"),
    ("ff02::1", NOTHING_ALLOWED, "multicast"),
    ("240.0.0.1", NOTHING_ALLOWED, "private"),  # reserved, and listed by IANA as not globally reachable
    ("0.0.0.0", NOTHING_ALLOWED, "unspecified"),
    ("::", NOTHING_ALLOWED, "unspecified"),
    ("100.64.0.1", NOTHING_ALLOWED, "non-global"),  # carrier-grade NAT
    ("192.0.2.1", NOTHING_ALLOWED, "private"),  # documentation
    # An IPv6 address carrying an IPv4 one leads where the IPv4 one does.
    ("::ffff:127.0.0.1", NOTHING_ALLOWED, "loopback"),
    ("::ffff:10.0.0.1", NOTHING_ALLOWED, "private"),
    ("::ffff:8.8.8.8", NOTHING_ALLOWED, None),
    ("2002:7f00:1::1", NOTHING_ALLOWED, "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::7f00:1", NOTHING_ALLOWED, "reserved"),  # NAT64 of 127.0.0.1
    # A CIDR of the allowlist holding the address lets it through, and no other.
    ("10.1.2.3", TEN_SLASH_EIGHT, None),
    ("::ffff:10.1.2.3", TEN_SLASH_EIGHT, None),
    ("fd12:3456::1", TEN_SLASH_EIGHT, None),
    ("11.0.0.1", TEN_SLASH_EIGHT, None),
    ("192.168.1.1", TEN_SLASH_EIGHT, "private"),
    ("127.0.0.1", TEN_SLASH_EIGHT, "loopback"),
    ("127.0.0.1", Allowlist.parse(["127.0.0.1"]), None),  # a bare address is its /32
]


@pytest.mark.parametrize(("address", "allowlist", "kind"), ADDRESSES, ids=[f"{a} {k}" for a, _, k in ADDRESSES])
def test_each_address_is_refused_as_its_kind_unless_an_allowed_network_holds_it(address, allowlist, kind):
    assert refusal(ipaddress.ip_address(address), allowlist) == kind


def test_the_allowlist_holds_host_names_case_insensitively_and_networks():
    allowlist = Allowlist.parse([" Receiver.Test. ", "10.0.0.0/8", "", "::1"])
    assert allowlist.names("receiver.test") and allowlist.names("RECEIVER.test.")
    assert not allowlist.names("other.receiver.test")
    assert [str(network) for network in allowlist.networks] == ["10.0.0.0/8", "::1/128"]


def settings(*allow: str) -> AirsideSettings:
    return AirsideSettings(webhook_allow_hosts=list(allow))


SHAPES = [
    ("http://partner.example.com/hook", "must start with https://"),
    ("ftp://partner.example.com/hook", "must start with https://"),
    ("partner.example.com/hook", "must start with https://"),
    ("https://user:secret@partner.example.com/hook", "user name or password"),
    ("https://user@partner.example.com/hook", "user name or password"),
    ("https:///hook", "names no host"),
    ("https://[::1/hook", "cannot be read"),
    ("https://[::1]x/hook", "cannot be read"),
    ("https://partner.example.com\\@10.0.0.1/hook", "user name or password"),  # read as httpx reads it: user info
    ("https://a@b@partner.example.com/hook", "user name or password"),
    ("https://partner.example.com:0/hook", "port"),
    ("https://partner.example.com/hook#part", "#fragment"),
    ("https://partner.example.com:99999/hook", "port"),
    ("https://partner.example.com/ho ok", "visible ASCII"),
    ("https://partnér.example.com/hook", "xn--"),
    ("https://partner.example.com/" + "a" * 2000, "longer than 2000"),
]


@pytest.mark.parametrize(("url", "says"), SHAPES)
async def test_a_url_not_shaped_as_a_destination_is_refused_saying_why(url, says):
    with pytest.raises(DestinationRefused, match=says):
        await check_destination(url, settings("partner.example.com", "0.0.0.0/0", "::/0"))


async def test_loopback_by_name_or_address_is_refused_unless_the_host_or_a_cidr_is_allowed():
    loopbacks = ["https://localhost:8443/hook", "https://127.0.0.1/hook", "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook"]
    loopbacks += ["https://127.1/hook", "https://2130706433/hook", "https://0x7f000001/hook"]  # what the resolver makes of them
    for url in loopbacks:
        with pytest.raises(DestinationRefused, match=r"loopback address.*AIRSIDE_WEBHOOK_ALLOW_HOSTS"):
            await check_destination(url, settings())
    await check_destination("https://LOCALHOST:8443/hook", settings("localhost"))  # by its name
    await check_destination("https://localhost:8443/hook", settings("127.0.0.0/8", "::1"))  # every address it resolves to
    await check_destination("https://127.0.0.1/hook", settings("127.0.0.1/32"))
    with pytest.raises(DestinationRefused, match=r"127\.0\.0\.1 is a loopback"):
        await check_destination("https://127.0.0.1/hook", settings("localhost"))  # the name is not the address


async def test_a_host_that_does_not_resolve_is_refused_naming_it():
    with pytest.raises(DestinationRefused, match=r"no-such-host\.invalid does not resolve"):
        await check_destination("https://no-such-host.invalid/hook", settings())


async def test_a_public_address_needs_no_allowlist():
    await check_destination("https://8.8.8.8/hook", settings())
    await check_destination("https://[2606:4700::1111]:8443/hook", settings())

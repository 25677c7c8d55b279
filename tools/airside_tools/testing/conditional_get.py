"""Conditional GET as a client sees it over HTTP: the ETag, 304 with no body, and every spelling of If-None-Match."""

from __future__ import annotations

import re
from typing import Any

import httpx

# If-None-Match values that are not a list of entity tags: each is ignored, never refused. The last is
# answered at once: a list matched by a backtracking regular expression would hold a worker for minutes.
MALFORMED_IF_NONE_MATCH = ["abc", '"unterminated', "W/", 'W/"1" W/"2"', '"a"x', "**", '"1";"2"', 'W/ "1"', " , ", "  ," * 2000 + " x"]


# The platform's admin routes, the same code on every service: their conditional GETs are tested once, on
# booking (services/booking/tests/test_webhooks_api.py), not in each service's table of its own routes.
PLATFORM_ADMIN_PATHS = ("/v1/ops/", "/v1/webhooks/")


def single_resource_gets(document: dict[str, Any]) -> list[str]:
    """The service's own GETs of one resource, by the OpenAPI document: the path ends in a parameter (/v1/orders/{order_id})."""
    return sorted(
        path
        for path, operations in document["paths"].items()
        if "get" in operations
        and path.startswith("/v1/")
        and not path.startswith(PLATFORM_ADMIN_PATHS)
        and re.search(r"/\{[^}/]+\}$", path)
    )


def declares_conditional_get(operation: dict[str, Any]) -> bool:
    """The operation documents If-None-Match, the ETag it answers and its 304."""
    reads_it = any(param["in"] == "header" and param["name"] == "If-None-Match" for param in operation.get("parameters", ()))
    responses = operation["responses"]
    return reads_it and "ETag" in responses["200"].get("headers", {}) and "ETag" in responses.get("304", {}).get("headers", {})


async def assert_conditional_get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """GET `path`: a strong ETag; 304 with no body for that ETag (weakly, in a list, or `*`); 200 for another or a malformed one."""
    first = await client.get(path, headers=headers)
    assert first.status_code == 200, (path, first.status_code, first.text)
    tag = first.headers["etag"]
    assert re.fullmatch(r'"[^"]+"', tag), (path, tag)  # strong: no W/
    for if_none_match in (tag, f"W/{tag}", f'"other", {tag}', "*", '"other",  ' * 500 + tag):
        again = await client.get(path, headers={**headers, "If-None-Match": if_none_match})
        assert again.status_code == 304, (path, if_none_match, again.status_code, again.text)
        assert again.content == b"" and again.headers["etag"] == tag, (path, if_none_match)
    for if_none_match in ('"not-this-one"', *MALFORMED_IF_NONE_MATCH):
        full = await client.get(path, headers={**headers, "If-None-Match": if_none_match})
        assert full.status_code == 200 and full.json() == first.json() and full.headers["etag"] == tag, (path, if_none_match, full.text)
    return first


async def assert_a_patch_gives_a_new_etag(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], change: dict[str, Any]
) -> tuple[httpx.Response, httpx.Response]:
    """A record a PATCH changes: its GET's ETag is its version and the one the PATCH's If-Match takes;
    after the PATCH the old ETag gets the new record (200) with the PATCH's new ETag. Returns (read, after)."""
    read = await assert_conditional_get(client, path, headers)
    assert read.headers["etag"] == f'"{read.json()["version"]}"', read.headers["etag"]
    changed = await client.patch(path, json=change, headers={**headers, "If-Match": read.headers["etag"]})
    assert changed.status_code == 200, changed.text
    after = await client.get(path, headers={**headers, "If-None-Match": read.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] == changed.headers["etag"] != read.headers["etag"], after.text
    assert (await client.get(path, headers={**headers, "If-None-Match": after.headers["etag"]})).status_code == 304
    return read, after

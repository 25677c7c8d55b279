"""Conditional GET (RFC 9110 13.1.2): a strong `ETag` on what a GET answers, `If-None-Match` → 304.

A record a PATCH changes is tagged with its version (the ETag its If-Match takes back); any other
answer with a hash of its JSON body, which changes whenever a byte of it does (docs/http.md).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Annotated, Any

from fastapi import Header, Response
from pydantic import TypeAdapter

from airside.versioning import etag

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description='The ETag of the copy you hold (e.g. "3"); 304 with no body while it is still current. A malformed value is ignored.',
    ),
]

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; If-None-Match = "*" / #entity-tag.
_ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"')

_ETAG_HEADER = {"description": "The representation's strong entity tag", "schema": {"type": "string"}}
# The responses a conditional GET adds to its route's OpenAPI operation: `responses=CONDITIONAL_GET`.
CONDITIONAL_GET: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"ETag": _ETAG_HEADER}},
    304: {"description": "Not Modified: the ETag sent in If-None-Match is still current (no body)", "headers": {"ETag": _ETAG_HEADER}},
}


def still_current(if_none_match: str | None, current: str) -> bool:
    """Whether If-None-Match names `current` (weak comparison, RFC 9110 8.8.3.2) or is `*`.

    A malformed header names nothing: the caller gets the whole answer, never an error.
    """
    if if_none_match is None:
        return False
    if if_none_match.strip(" \t") == "*":
        return True
    # Split on commas, not by one regular expression over the list (whose backtracking a long header
    # could make slow): an entity tag may hold a comma, but none this API issues does.
    members = [member.strip(" \t") for member in if_none_match.split(",")]
    if not all(member == "" or _ENTITY_TAG.fullmatch(member) for member in members):
        return False
    return current.removeprefix("W/") in {member.removeprefix("W/") for member in members if member}


def body_etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


@cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def answer(shape: Any, representation: Any, if_none_match: str | None, *, version: int | None = None) -> Response:
    """`representation` as JSON of type `shape` with its ETag, or 304 with only the ETag when the caller's copy is current.

    With `version` the ETag is the record's version, else the hash of the body.
    """
    body = _adapter(shape).dump_json(representation)
    tag = etag(version) if version is not None else body_etag(body)
    if still_current(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})

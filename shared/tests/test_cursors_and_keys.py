"""Keyset cursors and the idempotency hash, as units (the services' lists and POSTs: tests/e2e/test_adversarial_http.py)."""

import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from airside.idempotency import canonical
from airside.pagination import Keyset
from airside.problems import Problem
from airside.types import RecordId

KEY = b"k" * 32
SHAPE = TypeAdapter(tuple[AwareDatetime, RecordId])


def keyset(cursor: str | None, scope: str = "booking GET /v1/orders", key: bytes = KEY) -> Keyset:
    return Keyset(key, scope, SHAPE, cursor)


@given(at=st.datetimes(timezones=st.just(UTC)), record=st.uuids().map(str))
def test_a_cursor_gives_back_exactly_the_key_it_was_made_of(at, record):
    cursor = keyset(None).encode((at, record))
    assert keyset(cursor).after == (at, record)


@pytest.mark.parametrize(
    "changed",
    [
        {"scope": "booking GET /v1/members"},  # another list's cursor
        {"scope": "lounge GET /v1/orders"},  # another service's
        {"key": b"x" * 32},  # signed before the secret changed
    ],
    ids=["another list", "another service", "another key"],
)
def test_a_cursor_is_only_good_for_the_list_and_key_that_made_it(changed):
    cursor = keyset(None).encode((datetime(2026, 11, 22, tzinfo=UTC), "o-1"))
    with pytest.raises(Problem) as refused:
        keyset(cursor, **changed)
    assert (refused.value.status, refused.value.slug, [e.field for e in refused.value.errors or []]) == (
        422,
        "invalid_cursor",
        ["query.cursor"],
    )


def test_another_spelling_of_the_same_signature_is_refused():
    """Base64 decoding skips characters outside its alphabet and ignores a last character's spare bits:
    a cursor with `!` inserted in its signature, or the signature's last character's spare bits set,
    decodes to the same bytes and was taken (found by the e2e hypothesis test on SQLite)."""
    cursor = keyset(None).encode((datetime(2026, 11, 22, tzinfo=UTC), "o-1"))
    payload, mac = cursor.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = alphabet[alphabet.index(mac[-1]) ^ 1]  # MAC_BYTES is not a multiple of 3: the last character has spare bits
    for other in (f"{payload}.{mac[:3]}!{mac[3:]}", f"{payload}.{mac[:-1]}{spare}", f"{payload}.{mac}=", f"{payload}.{mac}\n"):
        with pytest.raises(Problem):
            keyset(other)


@given(position=st.integers(0, 200), replacement=st.text(max_size=3))
def test_any_edit_of_a_cursor_is_the_cursor_or_refused(position, replacement):
    cursor = keyset(None).encode((datetime(2026, 11, 22, tzinfo=UTC), "o-1"))
    position %= len(cursor)
    edited = cursor[:position] + replacement + cursor[position + 1 :]
    if edited == cursor:
        assert keyset(edited).after == keyset(cursor).after
    else:
        with pytest.raises(Problem):
            keyset(edited)


@given(codes=st.sets(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), max_size=12), limit=st.integers(1, 5))
def test_a_list_read_whole_pages_every_row_once_in_key_order(codes, limit):
    """Keyset.page_of: the rows in any order, the pages in the key's, each cursor where the last page ended."""
    shape = TypeAdapter(tuple[str])
    rows, cursor, pages = [{"code": code} for code in codes], None, []
    while True:
        page, cursor = Keyset(KEY, "booking GET /v1/stations", shape, cursor).page_of(rows, limit, lambda row: (row["code"],))
        assert len(page) <= limit
        pages.append(page)
        if cursor is None:
            break
    assert [row["code"] for page in pages for row in page] == sorted(codes)
    assert all(len(page) == limit for page in pages[:-1])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def shuffled(value, rng: random.Random):
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


@given(value=json_values, seed=st.integers(0, 1000), indent=st.none() | st.integers(0, 3), ascii_only=st.booleans())
def test_the_same_json_written_otherwise_hashes_alike(value, seed, indent, ascii_only):
    written = json.dumps(shuffled(value, random.Random(seed)), indent=indent, ensure_ascii=ascii_only).encode()
    assert canonical(written) == canonical(json.dumps(value, separators=(",", ":")).encode())


def test_other_json_or_no_json_hashes_otherwise():
    assert canonical(b'{"a": 1}') != canonical(b'{"a": 2}')
    assert canonical(b'{"a": [1, 2]}') != canonical(b'{"a": [2, 1]}')  # order inside a list is meaning
    assert canonical(b"{not json") == b"{not json"

"""Member search: `q` matches what was typed literally; `%`, `_` and `\\` are characters, not wildcards."""

import string

import pytest
from booking_support import AGENT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from booking.members.models import Member

# Names with LIKE's wildcards and its escape character in them, Chinese and mixed-case Latin.
NAMES = ["100%_Club", "Under_Score", "Per%cent", "Back\\slash", "王_芳", "李%明", "a_b%c\\d", "Plain Name", "Li Wei"]
# Letters with no case outside ASCII: SQLite folds only ASCII case, PostgreSQL's ILIKE follows its locale.
ALPHABET = string.ascii_letters + string.digits + " %_\\-+'.*[]^$" + "王芳李明"


@pytest.fixture(scope="module")
async def named_members(booking) -> list[dict]:
    client, created = booking.client, []
    for name in NAMES:
        response = await client.post("/v1/members", json={"name": name, "phone": "+8613900139000", "tier": "gold"}, headers=AGENT)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def found_ids(client, q: str) -> set[str]:
    seen, cursor = set(), None
    while True:
        params = {"q": q, "limit": 200} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/members", params=params, headers=AGENT)
        assert response.status_code == 200, response.text
        page = response.json()
        seen |= {member["id"] for member in page["items"]}
        if not (cursor := page["next_cursor"]):
            return seen


def literally_matches(member: Member, q: str) -> bool:
    """What the search promises: the name contains q (ignoring case), the phone ends with it, or it is the card number."""
    term = q.strip()
    return term.lower() in member.name.lower() or member.phone.endswith(term.lstrip("+")) or member.card_no == term.upper()


async def test_wildcard_characters_find_only_names_that_contain_them(client, named_members):
    by_name = {member["name"]: member["id"] for member in named_members}
    underscores = await found_ids(client, "_")
    assert {by_name[name] for name in NAMES if "_" in name} <= underscores
    assert by_name["Per%cent"] not in underscores and by_name["Plain Name"] not in underscores  # `_` is no wildcard
    assert by_name["Under_Score"] not in await found_ids(client, "%")
    assert await found_ids(client, "0%_C") == {by_name["100%_Club"]}
    assert await found_ids(client, "k\\s") == {by_name["Back\\slash"]}
    assert await found_ids(client, "b%c\\") == {by_name["a_b%c\\d"]}


def queries() -> st.SearchStrategy[str]:
    """Any short text, and pieces of the planted names with their case flipped, so that matches happen."""
    pieces = st.sampled_from(NAMES).flatmap(
        lambda name: st.tuples(st.integers(0, len(name)), st.integers(0, len(name))).map(lambda ends: name[min(ends) : max(ends)])
    )
    return st.one_of(st.text(alphabet=ALPHABET, max_size=6), pieces.map(str.swapcase), pieces)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries())
async def test_a_search_finds_exactly_the_members_that_contain_it_literally(booking, client, named_members, q):
    async with booking.runtime.db.session() as session:
        members = (await session.execute(select(Member))).scalars().all()
    assert await found_ids(client, q) == {member.id for member in members if literally_matches(member, q)}

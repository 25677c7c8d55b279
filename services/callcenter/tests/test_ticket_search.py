"""Ticket search: `q` matches subject or description literally; `%`, `_` and `\\` are characters, not wildcards."""

import string

import pytest
from cc_support import new_station, open_ticket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airside_tools.testing.harness import auth

TEXTS = [("100%_sure", "Per%cent"), ("Under_Score", "back\\slash"), ("贵宾室_空调", "50% 折扣"), ("Plain subject", "plain words")]
# Letters with no case outside ASCII: SQLite folds only ASCII case, PostgreSQL's ILIKE follows its locale.
ALPHABET = string.ascii_letters + string.digits + " %_\\-'.*[]" + "贵宾室空调折扣"


@pytest.fixture(scope="module")
async def station_tickets(callcenter) -> tuple[str, list[dict]]:
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    tickets = [await open_ticket(callcenter.client, staff, station, subject=s, description=d) for s, d in TEXTS]
    return station, tickets


def queries() -> st.SearchStrategy[str]:
    texts = [text for pair in TEXTS for text in pair]
    pieces = st.sampled_from(texts).flatmap(
        lambda text: st.tuples(st.integers(0, len(text)), st.integers(0, len(text))).map(lambda ends: text[min(ends) : max(ends)])
    )
    return st.one_of(st.text(alphabet=ALPHABET, max_size=5), pieces, pieces.map(str.swapcase))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries())
async def test_a_search_finds_exactly_the_tickets_that_contain_it_literally(client, station_tickets, q):
    station, tickets = station_tickets
    response = await client.get("/v1/tickets", params={"station": station, "q": q, "limit": 50}, headers=auth("agent", stations=[station]))
    assert response.status_code == 200, response.text
    term = q.strip().lower()
    expected = {t["id"] for t in tickets if term in t["subject"].lower() or term in t["description"].lower()}
    assert {t["id"] for t in response.json()["items"]} == expected

"""Lounge's lists page through `limit` and `cursor` (docs/http.md, lists): every row once, in the list's
order, whether the page is a keyset query (visits, expected visits) or a list read whole (the board)."""

import uuid
from datetime import timedelta

from lounge_support import PEK, PEK_STAFF, a_flight, a_member, a_morning, boarding_pass, expected_visit, order_snapshot, publish_order

from airside_tools.testing.harness import wait_for


async def walk(client, path: str, params: dict | None = None) -> list[dict]:
    """Every item of the list, one per page."""
    items, query = [], {**(params or {}), "limit": 1}
    while True:
        response = await client.get(path, params=query, headers=PEK_STAFF)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 1
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        query["cursor"] = page["next_cursor"]


async def test_visits_and_the_board_page_one_row_at_a_time_newest_and_soonest_first(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    ours = []
    for name in "ABC":
        frozen(now + timedelta(minutes=len(ours)))
        response = await client.post(
            f"/v1/lounges/{PEK}/visits", json={"boarding_pass": boarding_pass(f"PAGE/{name}", flight_no, flight_date)}, headers=PEK_STAFF
        )
        assert response.status_code == 201, response.text
        ours.append(response.json()["id"])
    visits = await walk(client, f"/v1/lounges/{PEK}/visits", {"status": "checked_in"})
    ids = [visit["id"] for visit in visits]
    assert len(ids) == len(set(ids)) and [visit for visit in ids if visit in ours] == ours[::-1]
    assert [visit["checked_in_at"] for visit in visits] == sorted((visit["checked_in_at"] for visit in visits), reverse=True)
    board = [row["visit_id"] for row in await walk(client, f"/v1/lounges/{PEK}/board")]
    assert len(board) == len(set(board)) and set(ours) <= set(board)

    cursor = (await client.get(f"/v1/lounges/{PEK}/board", params={"limit": 1}, headers=PEK_STAFF)).json()["next_cursor"]
    another_list = await client.get(f"/v1/lounges/{PEK}/visits", params={"cursor": cursor}, headers=PEK_STAFF)
    assert another_list.status_code == 422 and another_list.json()["type"] == "/problems/invalid_cursor"


async def test_expected_visits_page_by_flight_then_order(client, nats_server):
    std = a_morning() + timedelta(days=40)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member_id = await a_member(client, nats_server.url)
    order_ids = sorted(str(uuid.uuid4()) for _ in range(3))
    for order_id in order_ids:
        await publish_order(
            nats_server.url, order_snapshot(order_id=order_id, member_id=member_id, flight_no=flight_no, flight_date=flight_date, std=std)
        )
    for order_id in order_ids:
        await wait_for(lambda order_id=order_id: expected_visit(client, order_id), timeout=5, what="the expected visit")
    rows = await walk(client, f"/v1/lounges/{PEK}/expected-visits", {"flight_date": flight_date.isoformat()})
    assert [row["order_id"] for row in rows if row["flight_no"] == flight_no] == order_ids

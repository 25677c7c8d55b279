"""Concierges, shifts in local time (past midnight too), assignment refusals, the race, candidates, schedule."""

import asyncio
from datetime import timedelta

from booking_support import LEAD, SHANGHAI, act, confirmed_order, local, local_day, new_concierge, parse

from airside_tools.testing.harness import auth


async def test_a_shift_ending_before_it_starts_runs_past_midnight(client):
    day = local_day()
    concierge = await new_concierge(client)
    response = await client.put(
        f"/v1/concierges/{concierge['id']}/shifts/{day}",
        json=[{"start": "06:00", "end": "10:00"}, {"start": "22:00", "end": "02:00"}],
        headers=LEAD,
    )
    assert response.status_code == 200
    shifts = response.json()
    assert parse(shifts[1]["start_at"]) == local(day, 22) and parse(shifts[1]["end_at"]) == local(day + timedelta(days=1), 2)
    assert concierge["subject"] == concierge["id"]  # the subject defaults to the record's id
    bad = await client.put(f"/v1/concierges/{concierge['id']}/shifts/{day}", json=[{"start": "25:00", "end": "02:00"}], headers=LEAD)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("start")


async def test_an_overnight_order_fits_an_overnight_shift(client):
    day = local_day()
    order = await confirmed_order(client, std=local(day + timedelta(days=1), 1, 30))  # meet 23:30, window 23:15 to 01:00
    fits = await new_concierge(client, shifts=[(day, "22:00", "02:00")])
    short = await new_concierge(client, shifts=[(day, "22:00", "00:30")])
    refused = await act(client, order, "assign", {"concierge_id": short["id"]})
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/concierge_unavailable"
    assigned = await act(client, order, "assign", {"concierge_id": fits["id"]})
    assert assigned.status_code == 200 and assigned.json()["concierge"]["id"] == fits["id"]


async def test_shifts_end_to_end_cover_a_window(client):
    day = local_day()
    order = await confirmed_order(client, std=local(day, 16))  # window 13:45 to 15:30
    concierge = await new_concierge(client, shifts=[(day, "08:00", "14:00"), (day, "14:00", "20:00")])
    assert (await act(client, order, "assign", {"concierge_id": concierge["id"]})).status_code == 200


async def test_assignment_refuses_another_station_off_shift_and_double_booking(client):
    day = local_day()
    order = await confirmed_order(client, std=local(day, 15))
    kmg = await new_concierge(client, "KMG", shifts=[(day, "06:00", "22:00")])
    off = await new_concierge(client, shifts=[(day - timedelta(days=1), "06:00", "22:00")])
    busy = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    other = await confirmed_order(client, std=local(day, 15, 30))
    assert (await act(client, other, "assign", {"concierge_id": busy["id"]})).status_code == 200
    for concierge in (kmg, off, busy):
        response = await act(client, order, "assign", {"concierge_id": concierge["id"]})
        assert response.status_code == 409 and response.json()["type"] == "/problems/concierge_unavailable", concierge
    unknown = await act(client, order, "assign", {"concierge_id": "nobody"})
    assert unknown.status_code == 409
    # back to back is not an overlap: the other window ends 15:00 + 90 min; this one starts 16:45
    later = await confirmed_order(client, std=local(day, 19))
    assert (await act(client, later, "assign", {"concierge_id": busy["id"]})).status_code == 200


async def test_two_assignments_racing_for_one_concierge_one_wins(client):
    day = local_day()
    first = await confirmed_order(client, std=local(day, 15))
    second = await confirmed_order(client, std=local(day, 15, 20))
    concierge = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    responses = await asyncio.gather(
        act(client, first, "assign", {"concierge_id": concierge["id"]}), act(client, second, "assign", {"concierge_id": concierge["id"]})
    )
    assert sorted(response.status_code for response in responses) == [200, 409]
    loser = next(response for response in responses if response.status_code == 409)
    assert loser.json()["type"] == "/problems/concierge_unavailable"


async def test_reassigning_moves_the_order_to_another_concierge(client):
    day = local_day()
    order = await confirmed_order(client, std=local(day, 15))
    one = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    two = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    assert (await act(client, order, "assign", {"concierge_id": one["id"]})).status_code == 200
    again = await act(client, order, "assign", {"concierge_id": two["id"]})
    assert again.status_code == 200 and again.json()["concierge"]["id"] == two["id"]
    schedule = (await client.get(f"/v1/concierges/{one['id']}/schedule", params={"date": str(day)}, headers=LEAD)).json()
    assert schedule["assignments"] == []


async def test_candidates_are_free_concierges_least_loaded_first(client):
    day = local_day(9)
    busy = await new_concierge(client, shifts=[(day, "05:00", "23:00")])
    idle = await new_concierge(client, shifts=[(day, "05:00", "23:00")])
    away = await new_concierge(client, shifts=[(day + timedelta(days=2), "05:00", "23:00")])
    morning = await confirmed_order(client, std=local(day, 9))
    assert (await act(client, morning, "assign", {"concierge_id": busy["id"]})).status_code == 200
    order = await confirmed_order(client, std=local(day, 18))
    response = await client.get(f"/v1/orders/{order['id']}/candidates", headers=LEAD)
    assert response.status_code == 200
    ids = [candidate["id"] for candidate in response.json()["items"]]
    assert away["id"] not in ids and ids.index(idle["id"]) < ids.index(busy["id"])
    loads = {candidate["id"]: candidate["assignments_that_day"] for candidate in response.json()["items"]}
    assert loads[idle["id"]] == 0 and loads[busy["id"]] == 1


async def test_schedule_lists_the_local_days_assignments(client):
    day = local_day()
    concierge = await new_concierge(client, shifts=[(day - timedelta(days=1), "20:00", "08:00")])
    order = await confirmed_order(client, std=local(day, 1, 30))  # meet 23:30 the day before
    assert (await act(client, order, "assign", {"concierge_id": concierge["id"]})).status_code == 200
    before = (
        await client.get(f"/v1/concierges/{concierge['id']}/schedule", params={"date": str(day - timedelta(days=1))}, headers=LEAD)
    ).json()
    assert [item["order_id"] for item in before["assignments"]] == [order["id"]] and len(before["shifts"]) == 1
    same = (await client.get(f"/v1/concierges/{concierge['id']}/schedule", params={"date": str(day)}, headers=LEAD)).json()
    assert same["assignments"] == [] and parse(order["meet_at"]).astimezone(SHANGHAI).date() == day - timedelta(days=1)


async def test_only_the_assigned_concierge_starts_the_order(client):
    day = local_day()
    order = await confirmed_order(client, std=local(day, 15))
    mine = await new_concierge(client, shifts=[(day, "06:00", "22:00")], subject=f"idp|{order['id']}")
    other = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    assert (await act(client, order, "assign", {"concierge_id": mine["id"]})).status_code == 200
    refused = await act(client, order, "start", headers=auth("concierge", sub=other["subject"]))
    assert refused.status_code == 403
    started = await act(client, order, "start", headers=auth("concierge", sub=f"idp|{order['id']}"))
    assert started.status_code == 200 and started.json()["status"] == "in_service"

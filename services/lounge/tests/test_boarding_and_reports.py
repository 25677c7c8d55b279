"""Boarding calls (once, moved by delays, across replicas), the reception board, automatic
check-out when the flight departs, and the daily sales list."""

import csv
import io
import uuid
from datetime import datetime, timedelta

from lounge_support import BEIJING, PEK, PEK_MANAGER, PEK_STAFF, a_flight, a_member, a_morning, boarding_pass, flight_known, publish_flight

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import in_process, job_passes, settings_for_test, wait_for
from lounge.main import SERVICE


async def check_in(client, body: dict) -> dict:
    response = await client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=PEK_STAFF)
    assert response.status_code == 201, response.text
    return response.json()


async def member_visit(client, nats_url, flight_no, flight_date, tier="gold") -> dict:
    member_id = await a_member(client, nats_url, tier=tier)
    return await check_in(
        client, {"member_id": member_id, "flight": {"carrier": "CA", "number": flight_no[2:], "flight_date": str(flight_date)}}
    )


def of_visit(visit_id: str):
    return lambda event: event.subject == visit_id


async def calls_for(nats_url: str, visit_ids: set[str], at_least: int) -> dict[str, int]:
    events = await published_events(
        nats_url,
        "airside.lounge.visit.boarding_call_due",
        until=lambda seen: len([e for e in seen if e.subject in visit_ids]) >= at_least,
    )
    counts = dict.fromkeys(visit_ids, 0)
    for event in events:
        if event.subject in counts:
            counts[event.subject] += 1
    return counts


async def test_the_boarding_call_fires_once_and_again_when_a_delay_moves_it(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    flight_no, flight_date = await a_flight(client, nats_server.url, std, gate="E12")
    visit = await member_visit(client, nats_server.url, flight_no, flight_date)
    assert datetime.fromisoformat(visit["boarding_call_at"]) == std - timedelta(minutes=40)

    frozen(std - timedelta(minutes=39))
    assert await calls_for(nats_server.url, {visit["id"]}, 1) == {visit["id"]: 1}
    await job_passes("lounge", "boarding_calls", 5)  # five more scheduler passes: still one call
    assert await calls_for(nats_server.url, {visit["id"]}, 1) == {visit["id"]: 1}

    etd = std + timedelta(minutes=95)
    await publish_flight(nats_server.url, flight_no[2:], std, status="delayed", etd=etd, gate="E15")
    changed = await published_events(
        nats_server.url, "airside.lounge.visit.flight_changed", until=lambda seen: any(map(of_visit(visit["id"]), seen))
    )
    data = next(event.data for event in changed if event.subject == visit["id"])
    assert data["delay_minutes"] == 95 and datetime.fromisoformat(data["new_etd"]) == etd
    assert datetime.fromisoformat(data["visit"]["boarding_call_at"]) == etd - timedelta(minutes=40)

    board = (await client.get(f"/v1/lounges/{PEK}/board", headers=PEK_STAFF)).json()["items"]
    row = next(row for row in board if row["visit_id"] == visit["id"])
    assert row["flight"]["gate"] == "E15" and row["boarding_call_sent"] is False

    frozen(etd - timedelta(minutes=39))
    assert await calls_for(nats_server.url, {visit["id"]}, 2) == {visit["id"]: 2}


async def test_two_replicas_and_a_restart_call_each_guest_once(lounge, client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=1)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    visits = [await check_in(client, {"boarding_pass": boarding_pass(f"PAX/{name}", flight_no, flight_date)}) for name in "ABCDEF"]
    ids = {visit["id"] for visit in visits}
    settings = settings_for_test(SERVICE, database_url=lounge.runtime.settings.database_url, nats_url=nats_server.url)
    async with in_process(SERVICE, settings):
        frozen(std - timedelta(minutes=30))
        counts = await calls_for(nats_server.url, ids, len(ids))
        await job_passes("lounge", "boarding_calls", 6)  # passes of both replicas
    async with in_process(SERVICE, settings):  # a restarted replica finds nothing left to call
        await job_passes("lounge", "boarding_calls", 6)
    counts = await calls_for(nats_server.url, ids, len(ids))
    assert set(counts.values()) == {1}, counts


async def test_the_board_lists_open_visits_soonest_call_first(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    late, late_date = await a_flight(client, nats_server.url, now + timedelta(hours=2, minutes=30), gate="A1")
    early, early_date = await a_flight(client, nats_server.url, now + timedelta(hours=1), gate="B2")
    first = await member_visit(client, nats_server.url, late, late_date)
    second = await member_visit(client, nats_server.url, early, early_date)
    board = (await client.get(f"/v1/lounges/{PEK}/board", headers=PEK_STAFF)).json()["items"]
    assert [row["visit_id"] for row in board] == [second["id"], first["id"]]
    assert [row["flight"]["gate"] for row in board] == ["B2", "A1"]
    assert board[0]["name"] == "Li Wei"


async def test_departure_checks_guests_out_and_a_walk_ins_bill_stays_unsettled(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=1)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member = await member_visit(client, nats_server.url, flight_no, flight_date, tier="gold")
    walk_in = await check_in(client, {"boarding_pass": boarding_pass("WALK/IN", flight_no, flight_date)})
    await client.post(
        f"/v1/visits/{member['id']}/sales", json={"lines": [{"sku": "BEER", "qty": 2}, {"sku": "TEA", "qty": 1}]}, headers=PEK_STAFF
    )
    await client.post(f"/v1/visits/{walk_in['id']}/sales", json={"lines": [{"sku": "TEA", "qty": 1}]}, headers=PEK_STAFF)

    frozen(std + timedelta(minutes=5))
    await publish_flight(nats_server.url, flight_no[2:], std, status="departed", atd=std + timedelta(minutes=3))

    async def checked_out(visit_id: str) -> dict | None:
        visit = (await client.get(f"/v1/visits/{visit_id}", headers=PEK_STAFF)).json()
        return visit if visit["status"] == "checked_out" else None

    await wait_for(lambda: checked_out(member["id"]), timeout=5, what="the member's automatic check-out")
    await wait_for(lambda: checked_out(walk_in["id"]), timeout=5, what="the walk-in's automatic check-out")
    member_bill = (await client.get(f"/v1/visits/{member['id']}/bill", headers=PEK_STAFF)).json()
    assert (member_bill["status"], member_bill["payment_method"], member_bill["total_minor"]) == ("settled", "member_account", 9000)
    walk_in_bill = (await client.get(f"/v1/visits/{walk_in['id']}/bill", headers=PEK_STAFF)).json()
    assert (walk_in_bill["status"], walk_in_bill["payment_method"], walk_in_bill["total_minor"]) == ("unsettled", None, 30000 + 2800)
    await published_events(nats_server.url, "airside.lounge.visit.checked_out", until=lambda seen: any(map(of_visit(walk_in["id"]), seen)))

    day = now.astimezone(BEIJING).date()
    report = (await client.get("/v1/reports/daily-sales", params={"lounge_id": PEK, "date": str(day)}, headers=PEK_MANAGER)).json()
    assert [bill["visit_id"] for bill in report["unsettled_bills"]] == [walk_in["id"]]
    assert report["totals"]["by_payment_method"] == {"member_account": 9000, "unsettled": 32800}


async def test_the_daily_sales_list_in_json_and_csv(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    gold = await member_visit(client, nats_server.url, flight_no, flight_date, tier="gold")
    paid = await member_visit(client, nats_server.url, flight_no, flight_date, tier="standard")
    await client.post(
        f"/v1/visits/{gold['id']}/sales", json={"lines": [{"sku": "COFFEE", "qty": 2}, {"sku": "WINE", "qty": 1}]}, headers=PEK_STAFF
    )
    await client.post(f"/v1/visits/{paid['id']}/sales", json={"lines": [{"sku": "NOODLES", "qty": 1}]}, headers=PEK_STAFF)
    await client.post(f"/v1/visits/{gold['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    await client.post(f"/v1/visits/{paid['id']}/checkout", json={"payment_method": "cash"}, headers=PEK_STAFF)

    day = now.astimezone(BEIJING).date()
    params = {"lounge_id": PEK, "date": str(day)}
    report = (await client.get("/v1/reports/daily-sales", params=params, headers=PEK_MANAGER)).json()
    assert report["timezone"] == "Asia/Shanghai"
    assert {line["sku"] for line in report["lines"]} == {"COFFEE", "WINE", "NOODLES", "DAY_PASS"}
    assert report["totals"] == {
        "total_minor": 8800 + 6800 + 30000,
        "complimentary_minor": 6400,
        "by_category": {"hot_drink": 0, "alcohol": 8800, "meal": 6800, "entry": 30000},
        "by_payment_method": {"card": 8800, "cash": 36800},
    }
    assert report["unsettled_bills"] == []
    response = await client.get("/v1/reports/daily-sales", params=params, headers={**PEK_MANAGER, "Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["sku"] for row in rows) == ["COFFEE", "DAY_PASS", "NOODLES", "WINE"]
    assert {row["sku"]: row["payment_method"] for row in rows}["NOODLES"] == "cash"
    other_day = (
        await client.get("/v1/reports/daily-sales", params={**params, "date": str(day + timedelta(days=1))}, headers=PEK_MANAGER)
    ).json()
    assert other_day["lines"] == []
    assert (await client.get("/v1/reports/daily-sales", params=params, headers=PEK_STAFF)).status_code == 403
    assert (
        await client.get("/v1/reports/daily-sales", params={"lounge_id": PEK, "date": "yesterday"}, headers=PEK_MANAGER)
    ).status_code == 422
    assert uuid.UUID(report["lines"][0]["line_id"])


async def test_a_cancelled_flight_gets_no_boarding_call_and_its_guest_stays_checked_in(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    cancelled, cancelled_date = await a_flight(client, nats_server.url, std)
    control, control_date = await a_flight(client, nats_server.url, std + timedelta(minutes=1))
    guest = await member_visit(client, nats_server.url, cancelled, cancelled_date)
    other = await member_visit(client, nats_server.url, control, control_date)

    await publish_flight(nats_server.url, cancelled[2:], std, status="cancelled")
    await wait_for(lambda: flight_known(client, cancelled, cancelled_date, status="cancelled"), timeout=5, what="the cancellation")
    frozen(std - timedelta(minutes=30))  # past both boarding call times
    await calls_for(nats_server.url, {other["id"]}, 1)  # the scheduler has run past both
    await job_passes("lounge", "boarding_calls", 5)  # five more scheduler passes
    counts = await calls_for(nats_server.url, {guest["id"], other["id"]}, 1)
    assert counts == {guest["id"]: 0, other["id"]: 1}
    held = (await client.get(f"/v1/visits/{guest['id']}", headers=PEK_STAFF)).json()
    assert held["status"] == "checked_in"  # reception checks the guest out
    board = (await client.get(f"/v1/lounges/{PEK}/board", headers=PEK_STAFF)).json()["items"]
    assert next(row for row in board if row["visit_id"] == guest["id"])["boarding_call_sent"] is False


async def test_changing_the_boarding_call_minutes_moves_the_open_visits_calls(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    staying = await member_visit(client, nats_server.url, flight_no, flight_date)
    gone = await member_visit(client, nats_server.url, flight_no, flight_date)
    assert (await client.post(f"/v1/visits/{gone['id']}/checkout", json={}, headers=PEK_STAFF)).status_code == 200
    delayed, delayed_date = await a_flight(client, nats_server.url, std, etd=std + timedelta(minutes=50))
    late = await member_visit(client, nats_server.url, delayed, delayed_date)
    path = f"/v1/lounges/{PEK}"
    manager = {**PEK_MANAGER, "If-Match": (await client.get(path, headers=PEK_MANAGER)).headers["ETag"]}
    changed = await client.patch(path, json={"boarding_call_minutes": 60}, headers=manager)
    assert changed.status_code == 200 and changed.json()["boarding_call_minutes"] == 60

    async def call_at(visit: dict) -> datetime:
        body = (await client.get(f"/v1/visits/{visit['id']}", headers=PEK_STAFF)).json()
        return datetime.fromisoformat(body["boarding_call_at"])

    try:
        assert await call_at(staying) == std - timedelta(minutes=60)
        assert await call_at(late) == std + timedelta(minutes=50) - timedelta(minutes=60)  # (etd or std) - minutes
        assert await call_at(gone) == std - timedelta(minutes=40)  # a closed visit keeps its record
        board = (await client.get(f"/v1/lounges/{PEK}/board", headers=PEK_STAFF)).json()["items"]
        row = next(row for row in board if row["visit_id"] == staying["id"])
        assert datetime.fromisoformat(row["boarding_call_at"]) == std - timedelta(minutes=60)
        frozen(std - timedelta(minutes=59))  # the call goes at its new time
        assert await calls_for(nats_server.url, {staying["id"]}, 1) == {staying["id"]: 1}
    finally:
        restore = {**PEK_MANAGER, "If-Match": changed.headers["ETag"]}
        assert (await client.patch(path, json={"boarding_call_minutes": 40}, headers=restore)).status_code == 200
    assert await call_at(staying) == std - timedelta(minutes=40)

"""The status machine: every legal move, every illegal one (409 naming the status), fee windows to the edge, no-show timing."""

from datetime import timedelta

import pytest
from booking_support import LEAD, SHANGHAI, act, assigned_order, confirmed_order, iso, local, local_day, new_order, parse

from airside import clock
from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth
from booking.orders import fees

CANCEL = {"reason": "plans changed"}
NO_SHOW = {"contact_attempts": 3, "notes": "no answer on the phone"}
COMPLETE = {"fees_collected": {"amount_minor": 5000, "method": "cash"}}


@pytest.fixture
def frozen(monkeypatch):
    """Pin booking's clock to a chosen instant for the duration of one test."""

    def freeze(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)

    return freeze


async def test_the_whole_happy_path_emits_each_event(client, nats_server):
    order, concierge = await assigned_order(client)
    assert order["status"] == "assigned" and order["concierge"] == {"id": concierge["id"], "name": concierge["name"]}
    started = await act(client, order, "start", headers=auth("concierge", sub=concierge["subject"]))
    assert started.status_code == 200 and started.json()["status"] == "in_service"
    completed = await act(client, order, "complete", COMPLETE, headers=auth("concierge", sub=concierge["subject"]))
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert completed.json()["fees_collected"] == {"amount_minor": 5000, "currency": "CNY", "method": "cash"}
    events = await published_events(
        nats_server.url,
        "airside.booking.order.>",
        until=lambda seen: any(e.subject == order["id"] and e.type.endswith("completed") for e in seen),
    )
    kinds = [e.type.rsplit(".", 1)[-1] for e in events if e.subject == order["id"]]
    assert kinds == ["created", "confirmed", "assigned", "started", "completed"]
    done = next(e for e in events if e.subject == order["id"] and e.type.endswith("completed"))
    assert done.data["fees_collected"]["method"] == "cash" and done.data["order"]["concierge"]["id"] == concierge["id"]


async def reach(client, status, frozen=None):
    """An order in the given status."""
    if status == "requested":
        return await new_order(client)
    if status == "confirmed":
        return await confirmed_order(client)
    order, _ = await assigned_order(client)
    if status == "assigned":
        return order
    if status == "cancelled":
        return (await act(client, order, "cancel", CANCEL)).json()
    if status == "no_show":
        frozen(parse(order["meet_at"]) + timedelta(minutes=31))
        return (await act(client, order, "no-show", NO_SHOW)).json()
    order = (await act(client, order, "start")).json()
    if status == "in_service":
        return order
    return (await act(client, order, "complete")).json()


ACTIONS = {
    "confirm": None,
    "assign": "concierge",
    "start": None,
    "complete": None,
    "no-show": NO_SHOW,
    "cancel": CANCEL,
}
LEGAL = {
    "requested": {"confirm", "cancel"},
    "confirmed": {"assign", "cancel"},
    "assigned": {"assign", "start", "no-show", "cancel"},
    "in_service": {"complete"},
    "completed": set(),
    "cancelled": set(),
    "no_show": set(),
}
ILLEGAL = [(status, action) for status, legal in LEGAL.items() for action in ACTIONS if action not in legal]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
async def test_every_illegal_transition_is_409_naming_the_current_status(client, frozen, status, action):
    order = await reach(client, status, frozen)
    assert order["status"] == status
    body = ACTIONS[action]
    if body == "concierge":
        body = {"concierge_id": "anyone"}
    response = await act(client, order, action, body)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/illegal_transition" and problem["current_status"] == status and status in problem["detail"]


@pytest.mark.parametrize("status", ["in_service", "completed", "cancelled"])
async def test_changing_an_order_past_assigned_is_illegal(client, status):
    order = await reach(client, status)
    response = await client.patch(f"/v1/orders/{order['id']}", json={"notes": "x"}, headers={**LEAD, "If-Match": f'"{order["version"]}"'})
    assert response.status_code == 409 and response.json()["current_status"] == status


@pytest.mark.parametrize(
    ("before", "percent"),
    [
        (timedelta(hours=48), 0),
        (timedelta(hours=24), 0),  # exactly 24 h before is still free
        (timedelta(hours=24) - timedelta(seconds=1), 50),
        (timedelta(hours=2), 50),  # exactly 2 h before is still 50%
        (timedelta(hours=2) - timedelta(seconds=1), 100),
        (timedelta(minutes=5), 100),
    ],
)
async def test_cancellation_fee_windows_to_the_second(client, frozen, before, percent):
    order = await confirmed_order(client)
    frozen(parse(order["meet_at"]) - before)
    response = await act(client, order, "cancel", CANCEL)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancellation_fee"] == {"amount_minor": order["price"]["amount_minor"] * percent // 100, "currency": "CNY"}


def test_fee_rules_in_isolation():
    meet_at = local(local_day(), 12)
    assert fees.cancellation_percent(meet_at=meet_at, now=meet_at - timedelta(hours=24), flight_cancelled=False) == 0
    assert fees.cancellation_percent(meet_at=meet_at, now=meet_at - timedelta(hours=24, microseconds=-1), flight_cancelled=False) == 50
    assert fees.cancellation_percent(meet_at=meet_at, now=meet_at - timedelta(hours=2), flight_cancelled=False) == 50
    assert fees.cancellation_percent(meet_at=meet_at, now=meet_at - timedelta(hours=2, microseconds=-1), flight_cancelled=False) == 100
    assert fees.cancellation_percent(meet_at=meet_at, now=meet_at, flight_cancelled=True) == 0
    assert fees.late_fee(78_000) == 15_600 and fees.late_fee(5) == 1  # rounded half up


async def test_cancelling_is_free_whenever_the_flight_is_cancelled(client, frozen):
    order = await confirmed_order(client)
    flight = order["flight"]
    url = f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status"
    assert (await client.post(url, json={"status": "cancelled"}, headers=LEAD)).status_code == 200
    frozen(parse(order["meet_at"]) - timedelta(minutes=10))
    response = await act(client, order, "cancel", CANCEL)
    assert response.json()["cancellation_fee"]["amount_minor"] == 0


async def test_the_flight_being_cancelled_does_not_cancel_the_order(client):
    order = await confirmed_order(client)
    flight = order["flight"]
    await client.post(f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status", json={"status": "cancelled"}, headers=LEAD)
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["status"] == "confirmed"


async def test_no_show_only_from_30_minutes_after_meet_at_with_the_whole_price(client, frozen):
    order, _ = await assigned_order(client)
    meet_at = parse(order["meet_at"])
    frozen(meet_at + timedelta(minutes=30) - timedelta(seconds=1))
    early = await act(client, order, "no-show", NO_SHOW)
    assert early.status_code == 409 and early.json()["type"] == "/problems/too_early"
    frozen(meet_at + timedelta(minutes=30))
    response = await act(client, order, "no-show", NO_SHOW)
    assert response.status_code == 200 and response.json()["status"] == "no_show"
    assert response.json()["no_show_fee"]["amount_minor"] == order["price"]["amount_minor"]


async def test_a_confirm_retried_with_its_key_is_one_change(client):
    order = await new_order(client)
    headers = {**LEAD, "Idempotency-Key": f"confirm-{order['id']}"}
    first = await client.post(f"/v1/orders/{order['id']}/confirm", json={"notes": "called"}, headers=headers)
    second = await client.post(f"/v1/orders/{order['id']}/confirm", json={"notes": "called"}, headers=headers)
    assert first.status_code == second.status_code == 200 and first.json()["version"] == second.json()["version"] == 2


async def test_history_keeps_every_change(client):
    order, _ = await assigned_order(client)
    await act(client, order, "cancel", CANCEL)
    history = (await client.get(f"/v1/orders/{order['id']}/history", headers=LEAD)).json()["items"]
    assert [entry["action"] for entry in history] == ["created", "confirmed", "assigned", "cancelled"]
    assert [entry["version"] for entry in history] == [1, 2, 3, 4]
    assert history[-1]["details"]["reason"] == "plans changed"


async def test_an_explicit_meet_at_can_be_in_the_small_hours(client):
    day = local_day()
    order = await new_order(client, std=local(day, 8), meet_at=iso(local(day, 5, 45)))
    assert parse(order["confirm_by"]) == local(day - timedelta(days=1), 21)


async def test_the_daily_service_list_counts_a_no_show_with_its_fee(client, frozen):
    """Journey 8: the station's day shows who never came, and what it cost them."""
    order, concierge = await assigned_order(client, std=local(local_day(17), 14))
    frozen(parse(order["meet_at"]) + timedelta(minutes=45))
    missed = (await act(client, order, "no-show", NO_SHOW)).json()
    day = parse(order["meet_at"]).astimezone(SHANGHAI).date()  # the station's local day
    report = (await client.get("/v1/reports/daily-services", params={"station": "PEK", "date": str(day)}, headers=LEAD)).json()
    line = next(line for line in report["orders"] if line["ref"] == order["ref"])
    assert (line["status"], line["no_show_fee_minor"], line["concierge_name"]) == (
        "no_show",
        missed["no_show_fee"]["amount_minor"],
        concierge["name"],
    )
    assert report["totals_by_status"]["no_show"] >= 1

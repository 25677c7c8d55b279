"""Callbacks (回访) from order events, inside calling hours; attempts, CSAT complaints, surveys."""

import uuid
from datetime import date

from cc_support import DAY, frozen, iso, local, new_agent, new_station, order_snapshot, outbox, publish

from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, wait_for

NEXT = date(2030, 3, 6)


async def complete_order(callcenter, nats_server, station, *, at, member_id=None, event_id=None, times=1):
    """Publish order.completed as booking would, `times` times with different event ids."""
    order = order_snapshot(station, member_id=member_id, status="completed", version=5)
    for _ in range(times):
        payload = booking_events.OrderCompleted(order=order)
        event = booking_events.order_completed.build(payload, subject=order.id, source="airside/booking")
        event.time = at
        import nats

        nc = await nats.connect(nats_server.url)
        await nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event_id or event.id})
        await nc.close()
    return order


async def callbacks_of(client, headers, order_id):
    return (await client.get("/v1/callbacks", params={"order_id": order_id}, headers=headers)).json()["items"]


async def wait_callback(client, headers, order_id, status="pending"):
    async def found():
        items = await callbacks_of(client, headers, order_id)
        return items[0] if items and items[0]["status"] == status else None

    return await wait_for(found, timeout=5, what=f"a {status} callback for {order_id}")


async def test_a_duplicated_completed_event_makes_one_callback_pushed_into_calling_hours(client, callcenter, nats_server):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 21, 30), times=3)
    callback = await wait_callback(client, staff, order.id)
    # 21:30 local is outside 09:00-21:00: the first call waits for 09:00 the next day.
    assert (callback["due_at"], callback["due_by"]) == (iso(local(NEXT, 9)), iso(local(DAY, 21, 30).replace(day=8)))
    assert (callback["purpose"], callback["products"], callback["concierge_name"]) == (
        "service_followup",
        ["departure_escort", "lounge"],
        "王芳",
    )
    no_show = order.model_copy(update={"version": 6, "status": "no_show"})
    await publish(nats_server.url, booking_events.order_no_show, booking_events.OrderNoShow(order=no_show), subject=order.id)

    async def both():
        items = await callbacks_of(client, staff, order.id)
        return items if len(items) == 2 else None

    items = await wait_for(both, timeout=5, what="the no-show callback")
    assert sorted(item["purpose"] for item in items) == ["no_show", "service_followup"]
    scheduled = await outbox(callcenter, "airside.callcenter.callback.scheduled")
    assert sorted(e["data"]["callback"]["purpose"] for e in scheduled if e["data"]["callback"]["order_id"] == order.id) == [
        "no_show",
        "service_followup",
    ]


async def test_no_answer_retries_in_the_next_window_then_fails_after_three(client, callcenter, nats_server):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    callback = await wait_callback(client, headers, order.id)
    url = f"/v1/callbacks/{callback['id']}/attempts"
    with frozen(local(DAY, 11)):
        first = (await client.post(url, json={"outcome": "no_answer"}, headers=headers)).json()
    assert (first["status"], first["attempts"], first["due_at"]) == ("pending", 1, iso(local(NEXT, 9)))
    with frozen(local(NEXT, 9, 5)):
        await client.post(url, json={"outcome": "no_answer"}, headers=headers)
    with frozen(local(date(2030, 3, 7), 9, 5)):
        last = (await client.post(url, json={"outcome": "no_answer"}, headers=headers)).json()
    assert (last["status"], last["attempts"], last["outcome"]) == ("failed", 3, "no_answer")
    assert (await client.post(url, json={"outcome": "reached"}, headers=headers)).status_code == 409
    assert len((await client.get(url, headers=headers)).json()["items"]) == 3


async def test_rescheduled_lands_inside_calling_hours_and_bad_attempts_are_named(client, callcenter, nats_server):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    callback = await wait_callback(client, headers, order.id)
    url = f"/v1/callbacks/{callback['id']}/attempts"
    bad = await client.post(url, json={"outcome": "no_answer", "csat": 9}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.csat"
    assert (await client.post(url, json={"outcome": "rescheduled"}, headers=headers)).status_code == 422
    with frozen(local(DAY, 11)):
        moved = await client.post(url, json={"outcome": "rescheduled", "call_back_at": iso(local(DAY, 22))}, headers=headers)
    assert moved.json()["due_at"] == iso(local(NEXT, 9))


async def test_reached_with_csat_2_opens_a_complaint_and_csat_3_does_not(client, callcenter, nats_server):
    station = await new_station(callcenter)
    agent, headers = await new_agent(client, station)
    low = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    fine = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    for order, csat in ((low, 2), (fine, 3)):
        callback = await wait_callback(client, headers, order.id)
        reached = await client.post(
            f"/v1/callbacks/{callback['id']}/attempts", json={"outcome": "reached", "csat": csat, "comment": "so-so"}, headers=headers
        )
        assert reached.status_code == 201 and reached.json()["status"] == "completed"
    complaints = (await client.get("/v1/tickets", params={"order_id": low.id, "type": "complaint"}, headers=headers)).json()["items"]
    assert len(complaints) == 1 and complaints[0]["member_id"] == low.member_id and complaints[0]["priority"] == "P2"
    assert (await client.get("/v1/tickets", params={"order_id": fine.id}, headers=headers)).json()["items"] == []
    routed = await outbox(callcenter, "airside.callcenter.complaint.routed", complaints[0]["id"])
    assert routed[0]["data"]["order_id"] == low.id
    scores = [e["data"] for e in await outbox(callcenter, "airside.callcenter.csat.recorded") if e["data"]["order_id"] in (low.id, fine.id)]
    assert sorted(s["csat"] for s in scores) == [2, 3] and {s["source"] for s in scores} == {"call"}
    completed = [
        e for e in await outbox(callcenter, "airside.callcenter.callback.completed") if e["data"]["callback"]["order_id"] == low.id
    ]
    assert completed[0]["data"]["outcome"] == "reached" and agent["id"]


async def test_a_survey_completes_the_follow_up_once_per_order_and_only_the_owner_answers(client, callcenter, nats_server):
    station = await new_station(callcenter)
    member_id = str(uuid.uuid4())
    member = auth("member", member_id=member_id, stations=[])
    staff = auth("agent", stations=[station])
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10), member_id=member_id)
    callback = await wait_callback(client, staff, order.id)
    other = await client.post(
        "/v1/surveys", json={"order_id": order.id, "csat": 5}, headers=auth("member", member_id="someone-else", stations=[])
    )
    assert other.status_code == 404
    assert (await client.post("/v1/surveys", json={"order_id": order.id, "csat": 5}, headers=staff)).status_code == 403
    answer = await client.post("/v1/surveys", json={"order_id": order.id, "csat": 1, "comment": "late"}, headers=member)
    assert answer.status_code == 201 and answer.json()["callback_id"] == callback["id"] and answer.json()["complaint_ticket_id"]
    assert (await client.post("/v1/surveys", json={"order_id": order.id, "csat": 4}, headers=member)).status_code == 409
    done = (await client.get(f"/v1/callbacks/{callback['id']}", headers=staff)).json()
    assert (done["status"], done["outcome"], done["csat"]) == ("completed", "reached", 1)
    mine = (await client.get("/v1/tickets", headers=member)).json()["items"]
    assert [t["id"] for t in mine] == [answer.json()["complaint_ticket_id"]]


async def test_the_member_copy_shows_open_tickets_and_pending_callbacks(client, callcenter, nats_server):
    from airside.events.booking import MemberEvent, MemberSnapshot, member_registered

    station = await new_station(callcenter)
    member_id = str(uuid.uuid4())
    staff = auth("agent", stations=[station])
    snapshot = MemberSnapshot(
        id=member_id, card_no="AS" + member_id[:8], name="李雷", phone="+8613900001111", tier="gold", version=1, updated_at=local(DAY, 1)
    )
    await publish(nats_server.url, member_registered, MemberEvent(member=snapshot), subject=member_id)
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10), member_id=member_id)
    await wait_callback(client, staff, order.id)
    ticket = (
        await client.post(
            "/v1/tickets",
            json={"type": "inquiry", "channel": "phone", "subject": "Hi", "station": station, "member_id": member_id},
            headers=staff,
        )
    ).json()

    async def copied():
        answer = await client.get(f"/v1/members/{member_id}", headers=staff)
        return answer.json() if answer.status_code == 200 else None

    member = await wait_for(copied, timeout=5, what="the member copy")
    assert [t["id"] for t in member["open_tickets"]] == [ticket["id"]]
    assert [c["order_id"] for c in member["pending_callbacks"]] == [order.id]
    elsewhere = (await client.get(f"/v1/members/{member_id}", headers=auth("agent", stations=["KMG"]))).json()
    assert elsewhere["open_tickets"] == [] and elsewhere["pending_callbacks"] == []


async def test_due_before_lists_only_callbacks_due_strictly_earlier(client, callcenter, nats_server):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    today = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    tonight = await complete_order(callcenter, nats_server, station, at=local(DAY, 21, 30))  # due 09:00 the next day
    await wait_callback(client, staff, today.id)
    await wait_callback(client, staff, tonight.id)

    async def due_before(moment: str) -> list[str]:
        response = await client.get("/v1/callbacks", params={"station": station, "due_before": moment}, headers=staff)
        assert response.status_code == 200, response.text
        return [item["order_id"] for item in response.json()["items"]]

    assert await due_before(iso(local(DAY, 10))) == []  # due at exactly 10:00 is not due before 10:00
    assert await due_before(iso(local(DAY, 10, 1))) == [today.id]
    assert await due_before(iso(local(NEXT, 9))) == [today.id]
    assert await due_before("2030-03-06T09:00:01+08:00") == [today.id, tonight.id]  # any offset, soonest first
    pending = await client.get(
        "/v1/callbacks", params={"station": station, "due_before": iso(local(NEXT, 10)), "status": "pending"}, headers=staff
    )
    assert [item["order_id"] for item in pending.json()["items"]] == [today.id, tonight.id]
    naive = await client.get("/v1/callbacks", params={"station": station, "due_before": "2030-03-06T09:00:00"}, headers=staff)
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "query.due_before"


async def test_rescheduled_keeps_the_callback_pending_at_the_asked_time_inside_calling_hours(client, callcenter, nats_server):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    callback = await wait_callback(client, headers, order.id)
    url = f"/v1/callbacks/{callback['id']}/attempts"
    with frozen(local(DAY, 11)):
        inside = (await client.post(url, json={"outcome": "rescheduled", "call_back_at": iso(local(DAY, 18, 30))}, headers=headers)).json()
    assert (inside["status"], inside["attempts"], inside["due_at"], inside["outcome"]) == ("pending", 1, iso(local(DAY, 18, 30)), None)
    with frozen(local(DAY, 18, 30)):
        early = await client.post(url, json={"outcome": "rescheduled", "call_back_at": "2030-03-06T07:15:00+08:00"}, headers=headers)
    assert (early.json()["status"], early.json()["attempts"], early.json()["due_at"]) == ("pending", 2, iso(local(NEXT, 9)))
    # it stays due in the queue at its new time, and each move is announced
    listed = await client.get("/v1/callbacks", params={"station": station, "due_before": iso(local(NEXT, 9, 1))}, headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [callback["id"]]
    scheduled = await outbox(callcenter, "airside.callcenter.callback.scheduled", callback["id"])
    assert [event["data"]["callback"]["due_at"] for event in scheduled][-2:] == [iso(local(DAY, 18, 30)), iso(local(NEXT, 9))]
    assert (
        await client.post(url, json={"outcome": "rescheduled", "call_back_at": "2030-03-07T10:00:00"}, headers=headers)
    ).status_code == 422


async def test_declined_completes_and_wrong_number_fails_the_callback_at_once(client, callcenter, nats_server):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    declined_order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    wrong_order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    for order, outcome, status in ((declined_order, "declined", "completed"), (wrong_order, "wrong_number", "failed")):
        callback = await wait_callback(client, headers, order.id)
        url = f"/v1/callbacks/{callback['id']}/attempts"
        assert (
            await client.post(url, json={"outcome": outcome, "csat": 4}, headers=headers)
        ).status_code == 422  # a score only when reached
        with frozen(local(DAY, 11)):
            done = (await client.post(url, json={"outcome": outcome, "comment": "noted"}, headers=headers)).json()
        assert (done["status"], done["outcome"], done["attempts"], done["csat"]) == (status, outcome, 1, None), done
        assert done["due_at"] == callback["due_at"] and done["completed_at"] == iso(local(DAY, 11))
        again = await client.post(url, json={"outcome": "reached", "csat": 5}, headers=headers)
        assert again.status_code == 409 and again.json()["type"] == "/problems/callback_done"
        completed = await outbox(callcenter, "airside.callcenter.callback.completed", callback["id"])
        assert [(event["data"]["outcome"], event["data"].get("csat")) for event in completed] == [(outcome, None)]
        assert [attempt["outcome"] for attempt in (await client.get(url, headers=headers)).json()["items"]] == [outcome]

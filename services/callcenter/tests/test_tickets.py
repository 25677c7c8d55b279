"""Tickets: creation and numbering, the status machine, notes, calls, history, merge, search."""

import asyncio
from datetime import date

from cc_support import DAY, frozen, iso, local, new_agent, new_station, open_ticket, outbox, ticket_body

from airside_tools.testing.harness import auth


async def test_a_ticket_gets_a_number_default_priority_and_deadlines(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    with frozen(local(DAY, 10)):
        inquiry = await open_ticket(client, staff, station)
        complaint = await open_ticket(client, staff, station, type="complaint", subject="Lounge was dirty")
    assert inquiry["number"].startswith("CC-") and len(inquiry["number"]) == 9
    assert (inquiry["status"], inquiry["priority"], complaint["priority"]) == ("new", "P3", "P2")
    assert complaint["complaint_stage"] == "registered" and inquiry["complaint_stage"] is None
    # P3: 120 business minutes to first response, 1440 to resolution (13 h days).
    assert inquiry["first_response_due"] == iso(local(DAY, 12))
    assert inquiry["resolution_due"] == iso(local(date(2030, 3, 6), 21))  # 720 today, 720 tomorrow
    assert inquiry["sla_breached"] == {"first_response": False, "resolution": False}
    created = await outbox(callcenter, "airside.callcenter.ticket.created", inquiry["id"])
    assert created[0]["data"]["ticket"]["number"] == inquiry["number"]


async def test_bad_input_is_named_and_unknown_station_refused(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    bad = await client.post("/v1/tickets", json={**ticket_body(station), "type": "rant", "priority": "P9"}, headers=staff)
    assert bad.status_code == 422
    assert {error["field"] for error in bad.json()["errors"]} == {"body.type", "body.priority"}
    unknown = await client.post("/v1/tickets", json=ticket_body("ZZZ"), headers=auth("agent", stations=["ZZZ"]))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.station"


async def test_status_machine_refuses_illegal_moves(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    ticket = await open_ticket(client, staff, station)
    url = f"/v1/tickets/{ticket['id']}/status"
    refused = await client.post(url, json={"status": "closed"}, headers=staff)
    # The problem's `status` is the HTTP status (RFC 9457); the move refused is named beside it.
    assert (refused.status_code, refused.headers["content-type"]) == (409, "application/problem+json")
    assert refused.json() | {"detail": ""} == {
        "type": "/problems/illegal_transition", "title": "Illegal transition", "status": 409, "detail": "",
        "current_status": "new", "requested_status": "closed",
    }  # fmt: skip
    assert (await client.post(url, json={"status": "open"}, headers=staff)).json()["status"] == "open"
    assert (await client.post(url, json={"status": "pending_internal"}, headers=staff)).json()["status"] == "pending_internal"
    resolved = (await client.post(url, json={"status": "resolved"}, headers=staff)).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert (await client.post(url, json={"status": "pending_customer"}, headers=staff)).status_code == 409
    assert (await client.post(url, json={"status": "open"}, headers=staff)).json()["status"] == "open"  # reopen
    assert (await client.post(url, json={"status": "merged"}, headers=staff)).status_code == 409
    assert (await client.post(url, json={"status": "bogus"}, headers=staff)).status_code == 422
    changes = await outbox(callcenter, "airside.callcenter.ticket.status_changed", ticket["id"])
    assert [(e["data"]["from_status"], e["data"]["to_status"]) for e in changes] == [
        ("new", "open"),
        ("open", "pending_internal"),
        ("pending_internal", "resolved"),
        ("resolved", "open"),
    ]


async def test_first_public_note_is_the_first_response_and_a_member_reply_reopens(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    member_id = "m-" + station
    member = auth("member", member_id=member_id, stations=[])
    ticket = await open_ticket(client, member, station, channel="app", member_id=member_id)
    url = f"/v1/tickets/{ticket['id']}"
    await client.post(f"{url}/notes", json={"body": "checking", "visibility": "internal"}, headers=staff)
    assert (await client.get(url, headers=staff)).json()["first_responded_at"] is None
    await client.post(f"{url}/notes", json={"body": "The lounge opens at 06:00", "visibility": "public"}, headers=staff)
    assert (await client.get(url, headers=staff)).json()["first_responded_at"] is not None
    await client.post(f"{url}/status", json={"status": "resolved"}, headers=staff)
    reply = await client.post(f"{url}/notes", json={"body": "And on holidays?", "visibility": "internal"}, headers=member)
    assert reply.status_code == 201 and reply.json()["visibility"] == "public"
    after = (await client.get(url, headers=member)).json()
    assert after["status"] == "open" and after["resolved_at"] is None
    notes = (await client.get(f"{url}/notes", headers=member)).json()["items"]
    assert [note["body"] for note in notes] == ["The lounge opens at 06:00", "And on holidays?"]
    assert len((await client.get(f"{url}/notes", headers=staff)).json()["items"]) == 3
    # pending_customer goes back to open on a reply too.
    await client.post(f"{url}/status", json={"status": "pending_customer"}, headers=staff)
    await client.post(f"{url}/notes", json={"body": "Thanks"}, headers=member)
    assert (await client.get(url, headers=staff)).json()["status"] == "open"


async def test_calls_history_assign_and_patch(client, callcenter):
    station = await new_station(callcenter)
    agent, agent_headers = await new_agent(client, station)
    lead, lead_headers = await new_agent(client, station, "team_lead")
    ticket = await open_ticket(client, agent_headers, station)
    url = f"/v1/tickets/{ticket['id']}"
    call = await client.post(
        f"{url}/calls", json={"direction": "inbound", "duration_seconds": 95, "outcome": "reached"}, headers=agent_headers
    )
    assert call.status_code == 201 and call.json()["agent_id"] == agent["id"]
    bad_call = await client.post(
        f"{url}/calls", json={"direction": "sideways", "duration_seconds": -1, "outcome": "reached"}, headers=agent_headers
    )
    assert {e["field"] for e in bad_call.json()["errors"]} == {"body.direction", "body.duration_seconds"}
    # An agent may take a ticket but not hand it to someone else; a team lead may.
    assert (await client.post(f"{url}/assign", json={"agent_id": lead["id"]}, headers=agent_headers)).status_code == 403
    mine = await client.post(f"{url}/assign", json={"agent_id": agent["id"]}, headers=agent_headers)
    assert mine.status_code == 200 and (mine.json()["assignee"], mine.json()["status"]) == (agent["id"], "open")
    assert (await client.post(f"{url}/assign", json={"agent_id": lead["id"]}, headers=lead_headers)).json()["assignee"] == lead["id"]
    current = await client.get(url, headers=agent_headers)
    assert (await client.patch(url, json={"priority": "P1"}, headers=agent_headers)).status_code == 428
    stale = await client.patch(url, json={"priority": "P1"}, headers={**agent_headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    patched = await client.patch(
        url, json={"priority": "P1", "tags": ["vip", "lounge", "vip"]}, headers={**agent_headers, "If-Match": current.headers["ETag"]}
    )
    assert patched.status_code == 200 and patched.json()["priority"] == "P1" and patched.json()["tags"] == ["lounge", "vip"]
    assert patched.json()["first_response_due"] < ticket["first_response_due"] or ticket["first_response_due"] is None
    actions = [entry["action"] for entry in (await client.get(f"{url}/history", headers=agent_headers)).json()["items"]]
    assert actions[:2] == ["created", "call_logged"] and "assigned" in actions and actions[-1] == "updated"
    assert len(await outbox(callcenter, "airside.callcenter.ticket.assigned", ticket["id"])) == 2


async def test_merge_keeps_a_link_and_closes_the_duplicate(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    first = await open_ticket(client, staff, station, tags=["a"])
    duplicate = await open_ticket(client, staff, station, tags=["b"], order_id="o-" + station)
    merged = await client.post(f"/v1/tickets/{duplicate['id']}/merge", json={"into": first["id"]}, headers=staff)
    assert merged.status_code == 200 and (merged.json()["status"], merged.json()["merged_into"]) == ("merged", first["id"])
    target = (await client.get(f"/v1/tickets/{first['id']}", headers=staff)).json()
    assert target["tags"] == ["a", "b"] and target["order_id"] == "o-" + station
    again = await client.post(f"/v1/tickets/{duplicate['id']}/merge", json={"into": first["id"]}, headers=staff)
    assert again.status_code == 409
    assert (await client.post(f"/v1/tickets/{first['id']}/merge", json={"into": first["id"]}, headers=staff)).status_code == 409


async def test_search_filters_q_in_chinese_and_latin_and_pages(client, callcenter):
    station = await new_station(callcenter)
    staff = auth("agent", stations=[station])
    await open_ticket(client, staff, station, subject="贵宾室空调太冷", description="客人投诉")
    await open_ticket(client, staff, station, subject="Wheelchair at gate", description="needs assistance 100%")
    for n in range(3):
        await open_ticket(client, staff, station, subject=f"Lost umbrella {n}", type="lost_and_found")
    found = (await client.get("/v1/tickets", params={"station": station, "q": "空调"}, headers=staff)).json()
    assert [t["subject"] for t in found["items"]] == ["贵宾室空调太冷"]
    found = (await client.get("/v1/tickets", params={"station": station, "q": "WHEELCHAIR"}, headers=staff)).json()
    assert [t["subject"] for t in found["items"]] == ["Wheelchair at gate"]
    assert len((await client.get("/v1/tickets", params={"station": station, "q": "100%"}, headers=staff)).json()["items"]) == 1
    assert (
        (await client.get("/v1/tickets", params={"station": station, "q": "%"}, headers=staff))
        .json()["items"][0]["subject"]
        .startswith("Wheel")
    )
    seen, cursor = [], None
    while True:
        params = {"station": station, "type": "lost_and_found", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/tickets", params=params, headers=staff)).json()
        seen += [t["subject"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["Lost umbrella 2", "Lost umbrella 1", "Lost umbrella 0"]
    assert (await client.get("/v1/tickets", params={"cursor": "garbage!"}, headers=staff)).status_code == 422


async def test_idempotent_create_returns_the_first_ticket(client, callcenter):
    station = await new_station(callcenter)
    headers = {**auth("agent", stations=[station], sub="idem-" + station), "Idempotency-Key": "k1"}
    first, second = await asyncio.gather(
        client.post("/v1/tickets", json=ticket_body(station), headers=headers),
        client.post("/v1/tickets", json=ticket_body(station), headers=headers),
    )
    assert {first.status_code, second.status_code} <= {201}
    assert first.json()["id"] == second.json()["id"]

"""KPIs and the callback summary on a fixed data set, with the clock driven."""

from datetime import date

from cc_support import DAY, frozen, local, new_agent, new_station, open_ticket
from test_callbacks import complete_order, wait_callback

from airside_tools.testing.harness import auth
from callcenter.tickets.timers import run_timers

NEXT = date(2030, 3, 6)


async def test_kpis_and_callback_summary(client, callcenter, nats_server):
    station = await new_station(callcenter)
    alice, alice_headers = await new_agent(client, station)
    bob, bob_headers = await new_agent(client, station)
    lead = auth("team_lead", stations=[station])
    # T1: P3, answered after 30 min, resolved after 60, one contact (first-contact resolution), Alice.
    with frozen(local(DAY, 10)):
        t1 = await open_ticket(client, alice_headers, station)
        t2 = await open_ticket(client, bob_headers, station, priority="P1")
        await client.post(f"/v1/tickets/{t1['id']}/assign", json={"agent_id": alice["id"]}, headers=alice_headers)
        await client.post(f"/v1/tickets/{t2['id']}/assign", json={"agent_id": bob["id"]}, headers=bob_headers)
    with frozen(local(DAY, 10, 30)):
        await client.post(f"/v1/tickets/{t1['id']}/notes", json={"body": "answer", "visibility": "public"}, headers=alice_headers)
    with frozen(local(DAY, 11)):
        await client.post(f"/v1/tickets/{t1['id']}/status", json={"status": "resolved"}, headers=alice_headers)
    # T2: P1 (15 min), breached, answered after 20 min, two calls, resolved after 120, Bob.
    async with callcenter.runtime.db.session() as session:
        await run_timers(session=session, now=local(DAY, 10, 16))
        await session.commit()
    with frozen(local(DAY, 10, 20)):
        await client.post(f"/v1/tickets/{t2['id']}/notes", json={"body": "calling back", "visibility": "public"}, headers=bob_headers)
        for _ in range(2):
            await client.post(
                f"/v1/tickets/{t2['id']}/calls",
                json={"direction": "outbound", "duration_seconds": 60, "outcome": "reached"},
                headers=bob_headers,
            )
    with frozen(local(DAY, 12)):
        await client.post(f"/v1/tickets/{t2['id']}/status", json={"status": "resolved"}, headers=bob_headers)
    # T3: the next day, untouched.
    with frozen(local(NEXT, 10)):
        await open_ticket(client, alice_headers, station)
    # One follow-up, reached by Alice two hours after completion with CSAT 4.
    order = await complete_order(callcenter, nats_server, station, at=local(DAY, 10))
    callback = await wait_callback(client, alice_headers, order.id)
    with frozen(local(DAY, 12)):
        await client.post(f"/v1/callbacks/{callback['id']}/attempts", json={"outcome": "reached", "csat": 4}, headers=alice_headers)

    params = {"station": station, "from": DAY.isoformat(), "to": NEXT.isoformat()}
    with frozen(local(date(2030, 3, 10), 12)):
        report = (await client.get("/v1/reports/kpis", params=params, headers=lead)).json()
        by_day = (await client.get("/v1/reports/kpis", params={**params, "group_by": "day"}, headers=lead)).json()
        by_agent = (await client.get("/v1/reports/kpis", params={**params, "group_by": "agent"}, headers=lead)).json()
    assert report["total"] == {
        "tickets_created": 3,
        "first_response_avg_minutes": 25.0,
        "first_response_p90_minutes": 30.0,
        "resolution_avg_minutes": 90.0,
        "sla_compliance_pct": 50.0,
        "first_contact_resolution_pct": 50.0,
        "callbacks_within_72h_pct": 100.0,
        "csat_avg": 4.0,
    }
    assert [(g["key"], g["tickets_created"]) for g in by_day["groups"]] == [("2030-03-05", 2), ("2030-03-06", 1)]
    agents = {g["key"]: g for g in by_agent["groups"]}
    assert agents[alice["id"]]["first_contact_resolution_pct"] == 100.0 and agents[alice["id"]]["csat_avg"] == 4.0
    assert agents[bob["id"]]["sla_compliance_pct"] == 0.0 and agents["unassigned"]["tickets_created"] == 1

    summary = (await client.get("/v1/reports/callbacks", params=params, headers=lead)).json()
    assert (summary["made"], summary["reached"], summary["within_72h_pct"], summary["csat_avg"]) == (1, 1, 100.0, 4.0)
    assert summary["csat_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert [p["product"] for p in summary["per_product"]] == ["departure_escort", "lounge"]
    assert summary["per_concierge"][0]["concierge"] == "王芳"
    bad = await client.get("/v1/reports/kpis", params={**params, "from": NEXT.isoformat(), "to": DAY.isoformat()}, headers=lead)
    assert bad.status_code == 422
    assert (await client.get("/v1/reports/kpis", params=params, headers=auth("team_lead", stations=["KMG"]))).status_code == 404

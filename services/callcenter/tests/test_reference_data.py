"""SLA policies and business calendars: seeded, readable by staff, changed by admin only."""

from airside_tools.testing.harness import auth

AGENT = auth("agent", stations=["PEK"])
ADMIN = auth("admin", stations=["*"])


async def test_default_sla_policies_are_seeded(client):
    policies = {policy["priority"]: policy for policy in (await client.get("/v1/sla-policies", headers=AGENT)).json()["items"]}
    assert {priority: (policy["first_response_minutes"], policy["resolution_minutes"]) for priority, policy in policies.items()} == {
        "P1": (15, 240),
        "P2": (30, 480),
        "P3": (120, 1440),
        "P4": (480, 4320),
    }


async def test_admin_changes_a_policy_and_bad_input_is_named(client):
    assert (
        await client.put("/v1/sla-policies/P4", json={"first_response_minutes": 400, "resolution_minutes": 4000}, headers=AGENT)
    ).status_code == 403
    before = (await client.get("/v1/sla-policies/P4", headers=AGENT)).json()["version"]
    changed = await client.put("/v1/sla-policies/P4", json={"first_response_minutes": 400, "resolution_minutes": 4000}, headers=ADMIN)
    assert changed.status_code == 200 and changed.json()["version"] == before + 1
    unknown = await client.put("/v1/sla-policies/P9", json={"first_response_minutes": 1, "resolution_minutes": 2}, headers=ADMIN)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "path.priority"
    inverted = await client.put("/v1/sla-policies/P4", json={"first_response_minutes": 50, "resolution_minutes": 10}, headers=ADMIN)
    assert inverted.status_code == 422


async def test_calendar_is_09_to_22_by_default_and_scoped_to_the_station(client):
    calendar = (await client.get("/v1/stations/PEK/calendar", headers=AGENT)).json()
    assert (calendar["opens"], calendar["closes"], calendar["timezone"]) == ("09:00", "22:00", "Asia/Shanghai")
    assert (await client.get("/v1/stations/KMG/calendar", headers=AGENT)).status_code == 404


async def test_admin_sets_holidays(client):
    body = {"opens": "09:00", "closes": "22:00", "holidays": ["2027-01-01", "2027-02-06", "2027-01-01"]}
    response = await client.put("/v1/stations/KMG/calendar", json=body, headers=ADMIN)
    assert response.status_code == 200 and response.json()["holidays"] == ["2027-01-01", "2027-02-06"]
    assert (await client.put("/v1/stations/KMG/calendar", json=body, headers=auth("supervisor", stations=["KMG"]))).status_code == 403
    closed = await client.put("/v1/stations/KMG/calendar", json={**body, "closes": "08:00"}, headers=ADMIN)
    assert closed.status_code == 422

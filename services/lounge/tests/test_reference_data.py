"""Lounges and the bar menu: seeded reference data, station scoping and who may change them."""

import pytest

from airside_tools.testing.harness import auth

PEK_STAFF = auth("lounge_staff", stations=["PEK"])
PEK_MANAGER = auth("station_manager", stations=["PEK"])
ADMIN = auth("admin", stations=["*"])


async def test_staff_see_the_lounges_of_their_stations_only(client):
    lounges = (await client.get("/v1/lounges", headers=PEK_STAFF)).json()["items"]
    assert [lounge["id"] for lounge in lounges] == ["PEK-T3-VIP"]
    assert lounges[0] | {"capacity": 40, "boarding_call_minutes": 40, "day_pass_minor": 30000, "guest_fee_minor": 20000} == lounges[0]
    everywhere = (await client.get("/v1/lounges", headers=ADMIN)).json()["items"]
    assert {lounge["id"] for lounge in everywhere} == {"PEK-T3-VIP", "KMG-VIP"}


async def test_staff_of_pek_reading_a_kmg_lounge_get_404(client):
    response = await client.get("/v1/lounges/KMG-VIP", headers=PEK_STAFF)
    assert response.status_code == 404 and response.json()["type"] == "/problems/not_found"


async def test_a_station_manager_changes_a_lounge_with_if_match(client):
    path = "/v1/lounges/KMG-VIP"
    kmg_manager = auth("station_manager", stations=["KMG"])
    current = await client.get(path, headers=kmg_manager)
    assert (await client.patch(path, json={"capacity": 30}, headers=kmg_manager)).status_code == 428
    assert (await client.patch(path, json={"capacity": 30}, headers=PEK_MANAGER)).status_code in (404, 428)
    changed = await client.patch(path, json={"capacity": 30}, headers={**kmg_manager, "If-Match": current.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["capacity"] == 30
    stale = await client.patch(path, json={"capacity": 20}, headers={**kmg_manager, "If-Match": current.headers["ETag"]})
    assert stale.status_code == 412
    staff = await client.patch(path, json={"capacity": 20}, headers={**auth("lounge_staff", stations=["KMG"]), "If-Match": '"2"'})
    assert staff.status_code == 403
    invalid = await client.patch(path, json={"capacity": 0}, headers={**kmg_manager, "If-Match": '"2"'})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "body.capacity"


async def test_the_menu_is_seeded_and_readable_by_members(client):
    menu = (await client.get("/v1/menu", headers=auth("member", member_id="m-1"))).json()["items"]
    by_sku = {item["sku"]: item for item in menu}
    assert len(menu) >= 12
    assert by_sku["COFFEE"]["complimentary"] is True and by_sku["WHISKY"]["complimentary"] is False
    assert all(isinstance(item["price_minor"], int) for item in menu)


async def test_only_admin_changes_the_menu(client):
    item = {"name": "Oolong tea", "category": "hot_drink", "price_minor": 3000, "complimentary": True}
    assert (await client.put("/v1/menu/OOLONG", json=item, headers=PEK_MANAGER)).status_code == 403
    created = await client.put("/v1/menu/OOLONG", json=item, headers=ADMIN)
    assert created.status_code == 200 and created.json()["version"] == 1
    bad = await client.put("/v1/menu/OOLONG", json={**item, "category": "cigar"}, headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.category"


@pytest.mark.parametrize("path", ["/v1/lounges", "/v1/menu", "/v1/members/someone"])
async def test_no_token_is_401(client, path):
    assert (await client.get(path)).status_code == 401


async def test_a_station_manager_changes_the_opening_hours(client):
    """Found by the e2e journeys: local times reached the database as text and the PATCH failed."""
    path = "/v1/lounges/KMG-VIP"
    manager = auth("station_manager", stations=["KMG"])
    current = await client.get(path, headers=manager)
    changed = await client.patch(path, json={"opens": "00:00", "closes": "23:59"}, headers={**manager, "If-Match": current.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["opens"], changed.json()["closes"]) == ("00:00", "23:59")
    restored = await client.patch(
        path, json={"opens": "06:00", "closes": "23:00"}, headers={**manager, "If-Match": changed.headers["ETag"]}
    )
    assert (restored.json()["opens"], restored.json()["closes"]) == ("06:00", "23:00")

"""Stations: everyone with a token reads them; admin changes them and the change is announced."""

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth


async def test_seeded_stations_are_listed_with_time_zones(client):
    response = await client.get("/v1/stations", headers=auth("concierge"))
    stations = {station["code"]: station for station in response.json()["items"]}
    assert stations["PEK"]["timezone"] == "Asia/Shanghai" and stations["KMG"]["name"] == "Kunming Changshui"


async def test_admin_upserts_a_station_and_station_upserted_is_published(client, nats_server):
    body = {"name": "Chengdu Tianfu", "timezone": "Asia/Shanghai"}
    assert (await client.put("/v1/stations/TFU", json=body, headers=auth("station_manager"))).status_code == 403
    response = await client.put("/v1/stations/TFU", json=body, headers=auth("admin", stations=["*"]))
    assert response.status_code == 200 and response.json()["code"] == "TFU"
    events = await published_events(
        nats_server.url, "airside.booking.station.upserted", until=lambda seen: any(event.subject == "TFU" for event in seen)
    )
    assert next(event for event in events if event.subject == "TFU").data == {"code": "TFU", **body, "version": 1}
    # Every change is one version more: the copies keep the newest, whatever order the events arrive in.
    renamed = {"name": "Chengdu Tianfu International", "timezone": "Asia/Shanghai"}
    assert (await client.put("/v1/stations/TFU", json=renamed, headers=auth("admin", stations=["*"]))).status_code == 200
    events = await published_events(
        nats_server.url, "airside.booking.station.upserted", until=lambda seen: any(event.data.get("version") == 2 for event in seen)
    )
    assert [event.data for event in events if event.subject == "TFU"][-1] == {"code": "TFU", **renamed, "version": 2}


async def test_bad_station_input_is_named(client):
    admin = auth("admin", stations=["*"])
    zone = await client.put("/v1/stations/TFU", json={"name": "X", "timezone": "Mars/Olympus"}, headers=admin)
    assert zone.status_code == 422 and zone.json()["errors"][0]["field"] == "body.timezone"
    code = await client.put("/v1/stations/tfu1", json={"name": "X", "timezone": "UTC"}, headers=admin)
    assert code.status_code == 422 and code.json()["errors"][0]["field"] == "path.code"

"""Consumers pick handlers by event type and major version, read from the dataschema (issue 13 item 3)."""

import uuid

import orjson
import pytest
from test_delivery import ADMIN, applied, publish_raw, station_event

from airside.messaging.envelope import EventRefused
from airside.messaging.versions import event_version
from airside_tools.testing.harness import wait_for

URI = "http://host/schemas/events/airside.booking.station.upserted/v{n}.json"


def with_dataschema(raw: bytes, dataschema: str | None) -> bytes:
    event = orjson.loads(raw)
    event.pop("dataschema", None)
    if dataschema is not None:
        event["dataschema"] = dataschema
    return orjson.dumps(event)


@pytest.mark.parametrize(
    ("dataschema", "version"),
    [(None, 1), ("airside:booking.station.upserted:1", 1), (URI.format(n=1), 1), (URI.format(n=2), 2), (URI.format(n=12), 12)],
)
def test_the_version_is_read_from_the_uri_or_the_legacy_form(dataschema, version):
    assert event_version(dataschema) == version


def test_a_dataschema_naming_no_version_is_refused():
    with pytest.raises(EventRefused):
        event_version("http://host/schemas/whatever.json")


async def test_a_v2_event_without_a_v2_handler_is_parked_and_v1_events_are_applied(probe, nats_server):
    uri_code, legacy_code, v2_code = (uuid.uuid4().hex[:8] for _ in range(3))
    await publish_raw(nats_server.url, with_dataschema(station_event(v2_code), URI.format(n=2)), msg_id=str(uuid.uuid4()))
    await publish_raw(nats_server.url, with_dataschema(station_event(uri_code), URI.format(n=1)), msg_id=str(uuid.uuid4()))
    legacy = with_dataschema(station_event(legacy_code), "airside:booking.station.upserted:1")
    await publish_raw(nats_server.url, legacy, msg_id=str(uuid.uuid4()))

    await wait_for(lambda: applied(probe, uri_code), timeout=5, what="the v1 (URI) event applied")
    await wait_for(lambda: applied(probe, legacy_code), timeout=5, what="the v1 (legacy) event applied")

    async def parked() -> list[dict] | None:
        letters = (await probe.client.get("/v1/ops/dead-letters", params={"status": "parked"}, headers=ADMIN)).json()["items"]
        return [letter for letter in letters if v2_code in letter["payload"]] or None

    (letter,) = await wait_for(parked, timeout=5, what="the v2 event parked")
    assert "airside.booking.station.upserted version 2" in letter["error"]
    assert await applied(probe, v2_code) == 0

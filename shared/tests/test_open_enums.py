"""Enum fields of event payloads (airside.types.OpenEnum, docs/events.md Versioning): the published schema
lists the known values and a producer is held to them; a consumer keeps a value it does not know."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside.events.common import FlightStatus, Tier
from airside.messaging.envelope import EnvelopeError
from airside.types import known
from airside_tools import asyncapi

STATUS = {
    "carrier": "CA",
    "number": "1831",
    "flight_date": "2031-06-01",
    "origin": "PEK",
    "destination": "KMG",
    "status": "delayed",
    "updated_at": "2031-05-31T21:00:00Z",
}


def event_with(status: object):
    event = flight_events.flight_status.build(flight_events.FlightStatusChanged.model_validate(STATUS), subject=None, source="airline/ops")
    event.data["status"] = status
    return event


def test_the_published_schemas_list_every_known_value():
    flight = flight_events.flight_status.json_schema()
    assert flight["properties"]["status"] == {"$ref": "#/$defs/FlightStatus"}
    assert flight["$defs"]["FlightStatus"]["enum"] == [status.value for status in FlightStatus]
    order = booking_events.order_created.json_schema()
    assert order["$defs"]["FlightInfo"]["properties"]["status"]["$ref"] == "#/$defs/FlightStatus"
    assert booking_events.member_registered.json_schema()["$defs"]["Tier"]["enum"] == [tier.value for tier in Tier]
    document = json.loads(asyncapi.DOCUMENT_PATH.read_text())
    assert document["components"]["schemas"]["FlightStatus"]["enum"] == [status.value for status in FlightStatus]
    assert document["components"]["schemas"]["Tier"]["enum"] == [tier.value for tier in Tier]


def test_a_producer_building_a_payload_is_held_to_the_known_values():
    with pytest.raises(ValidationError, match="status"):
        flight_events.FlightStatusChanged.model_validate({**STATUS, "status": "diverted"})
    snapshot = {"id": "m1", "card_no": "AS1", "name": "Li Wei", "phone": "+8613800138000", "version": 1, "updated_at": datetime.now(UTC)}
    with pytest.raises(ValidationError, match="tier"):
        booking_events.MemberSnapshot.model_validate({**snapshot, "tier": "diamond"})


def test_a_consumer_keeps_an_unknown_value_as_its_string_and_known_tells_it_apart():
    held = flight_events.flight_status.parse(event_with("diverted"))
    assert held.status == "diverted" and known(FlightStatus, held.status) is None
    assert held.model_dump(mode="json")["status"] == "diverted"
    today = flight_events.flight_status.parse(event_with("boarding"))
    assert today.status is FlightStatus.boarding and known(FlightStatus, today.status) is FlightStatus.boarding


@pytest.mark.parametrize("status", [7, None, ["delayed"]])
def test_a_value_that_is_no_string_is_still_refused_by_a_consumer(status):
    with pytest.raises(EnvelopeError, match="status"):
        flight_events.flight_status.parse(event_with(status))

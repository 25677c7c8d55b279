"""Envelope and payload round trips, and the AsyncAPI document that other airline systems read."""

import json
import re
import types
import typing
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from airside.events import REGISTRY
from airside.messaging.envelope import CloudEvent, EnvelopeError, parse_envelope
from airside.messaging.streams import STREAMS, stream_for
from airside_tools import asyncapi

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json").read_text())


# Fields whose values follow a pattern (IATA codes, flight numbers).
NAMED = {"carrier": "CA", "number": "1831", "origin": "PEK", "destination": "KMG"}


def sample(annotation: Any, name: str = "") -> Any:
    """A filled-in value of a payload field's type, so every optional field is exercised too."""
    if name in NAMED and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):  # a flight's, not a carrier record
        return NAMED[name]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:  # airside.types' IsoDate, EventDateTime
        return sample(typing.get_args(annotation)[0], name)
    if origin in (typing.Union, types.UnionType):
        return sample(next(arg for arg in typing.get_args(annotation) if arg is not type(None)), name)
    if origin is list:
        return [sample(typing.get_args(annotation)[0])]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation(**{field_name: sample(field.annotation, field_name) for field_name, field in annotation.model_fields.items()})
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation))
    return {str: "CA1831", int: 7, bool: True, float: 1.5, datetime: datetime(2026, 11, 22, 8, 30, tzinfo=UTC), date: date(2026, 11, 22)}[
        annotation
    ]


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_every_event_round_trips_through_the_envelope(event_type):
    definition = REGISTRY[event_type]
    payload = sample(definition.payload)
    envelope = definition.build(payload, subject="aggregate-1", source="airside/test")

    received = parse_envelope(envelope.to_json())

    assert received.type == event_type == definition.subject
    assert received.specversion == "1.0"
    assert received.dataschema.endswith(f"/schemas/events/{event_type}/v1.json")
    assert received.subject == "aggregate-1"
    assert received.time.tzinfo is not None
    assert definition.parse(received) == payload
    assert stream_for(event_type).name in {stream.name for stream in STREAMS}


def test_consumers_ignore_fields_they_do_not_know():
    definition = REGISTRY["airside.booking.station.upserted"]
    envelope = definition.build(definition.payload(code="PEK", name="Beijing", timezone="Asia/Shanghai"), subject="PEK", source="x")
    raw = json.loads(envelope.to_json())
    raw["data"]["opened_in"] = 1958
    raw["extension"] = "kept"

    parsed = parse_envelope(json.dumps(raw).encode())

    assert definition.parse(parsed).code == "PEK"


@pytest.mark.parametrize(
    "raw", [b"not json", b"{}", b'{"specversion": "0.3", "id": "1", "source": "s", "type": "t", "time": "x", "data": {}}']
)
def test_bytes_that_are_not_an_event_are_refused(raw):
    with pytest.raises(EnvelopeError):
        parse_envelope(raw)


def test_a_payload_missing_fields_is_refused():
    definition = REGISTRY["airside.booking.member.registered"]
    event = CloudEvent(id="1", source="s", type=definition.type, time=datetime.now(UTC), data={"member": {"id": "m1"}})
    with pytest.raises(EnvelopeError):
        definition.parse(event)


def test_committed_asyncapi_document_is_current():
    assert asyncapi.DOCUMENT_PATH.read_text() == asyncapi.render(), "run `airside-dev asyncapi` and commit the result"


def test_asyncapi_document_validates_against_the_asyncapi_3_schema():
    document = json.loads(asyncapi.DOCUMENT_PATH.read_text())
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(document), key=str)
    assert not errors, errors[:3]


def test_asyncapi_schema_check_catches_a_broken_document():
    document = json.loads(asyncapi.DOCUMENT_PATH.read_text())
    channel = next(iter(document["channels"]))
    document["channels"][channel]["address"] = 42
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(document))


def test_every_event_type_is_a_channel_with_its_payload_schema():
    document = json.loads(asyncapi.DOCUMENT_PATH.read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(REGISTRY)
    schemas = document["components"]["schemas"]
    for message in document["components"]["messages"].values():
        definition = REGISTRY[message["name"]]
        data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        documented = schemas[data_ref.rsplit("/", 1)[-1]]
        # The whole schema of the payload, types and formats included, not only its field names.
        own = definition.payload.model_json_schema(ref_template=asyncapi.REF)
        for nested, schema in own.pop("$defs", {}).items():
            assert schemas[nested] == schema, (message["name"], nested)
        assert documented == own, message["name"]
        assert set(documented.get("required", [])) == {
            name for name, field in definition.payload.model_fields.items() if field.is_required()
        }


def test_every_event_type_has_a_row_in_the_catalogue_of_docs_events():
    catalogue = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    rows = set(re.findall(r"^\| `(airside\.[a-z_.]+)` \|", catalogue, flags=re.MULTILINE))
    assert rows == set(REGISTRY)

"""The AsyncAPI 3.0 document of every channel and message, generated from the payload models."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

import airside
from airside.events import EXAMPLES
from airside.messaging.envelope import VERSIONS, CloudEvent, EventDefinition
from airside.messaging.streams import stream_for

# The document ships in the platform, which serves it (airside.platform_routes): only writing it is tooling.
DOCUMENT_PATH = Path(airside.__file__).with_name("asyncapi.json")
REF = "#/components/schemas/{model}"
# AsyncAPI's NATS bindings 0.1.0: only an operation binding has fields; the others are reserved and empty.
NATS_BINDING_VERSION = "0.1.0"
# The example envelopes' fixed values, so the document is the same on every run.
EXAMPLE_TIME = datetime(2026, 12, 23, 21, 5, tzinfo=UTC)
EXAMPLE_CORRELATION_ID = "8f14e45f-ceea-467f-a0e6-3b9c2d1a7e55"
# Payload keys holding the aggregate whose id is the event's CloudEvents `subject`.
SNAPSHOTS = ("order", "visit", "ticket", "callback", "requisition", "member")
# The examples' dataschema base: booking's embedded URL (every service serves every event's schema).
EXAMPLE_PUBLIC_URL = "http://localhost:8001"


def _component_name(definition: EventDefinition[Any]) -> str:
    name = "".join(part.capitalize() for part in definition.type.removeprefix("airside.").replace(".", "_").split("_"))
    return name if definition.version == 1 else f"{name}V{definition.version}"


def _dataschema(definition: EventDefinition[Any]) -> dict[str, Any]:
    """The service's public URL varies by deployment; the path names the type and version (docs/events.md)."""
    return {"type": "string", "format": "uri", "pattern": re.escape(definition.schema_path) + "$"}


def _example(definition: EventDefinition[Any]) -> dict[str, Any]:
    """The event's example payload in its envelope, as a producer builds it; the payload model checks the example."""
    data = definition.payload.model_validate(EXAMPLES[definition.type]).model_dump(mode="json", exclude_none=True)
    event = CloudEvent(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, definition.type)),
        source=f"airside/{definition.producer}",
        type=definition.type,
        subject=next((data[key]["id"] for key in SNAPSHOTS if key in data), None),
        time=EXAMPLE_TIME,
        dataschema=definition.dataschema_at(EXAMPLE_PUBLIC_URL),
        correlationid=EXAMPLE_CORRELATION_ID,
        data=data,
    )
    envelope = event.model_dump(mode="json", exclude_none=True)
    return {"name": f"{definition.type} example", "headers": {"Nats-Msg-Id": event.id}, "payload": envelope}


def build_document() -> dict[str, Any]:
    definitions = sorted(VERSIONS.values(), key=lambda definition: (definition.type, definition.version))
    models = [(CloudEvent, "validation")] + [(definition.payload, "validation") for definition in definitions]
    keys, shared_schemas = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(shared_schemas.get("$defs", {}))
    envelope = schemas[keys[(CloudEvent, "validation")]["$ref"].rsplit("/", 1)[-1]]
    # The model defaults specversion for producers; on the wire every CloudEvent must carry it.
    envelope["required"] = ["specversion", *envelope["required"]]
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for definition in definitions:
        name = _component_name(definition)
        payload_ref = keys[(definition.payload, "validation")]["$ref"]
        messages[name] = {
            "name": definition.type,
            "title": name,
            "summary": definition.summary,
            "contentType": "application/cloudevents+json",
            "correlationId": {
                "location": "$message.payload#/correlationid",
                "description": "The id of the HTTP request that caused the change, carried into every event it caused.",
            },
            "bindings": {"nats": {}},
            "examples": [_example(definition)],
            "headers": {
                "type": "object",
                "properties": {"Nats-Msg-Id": {"type": "string", "description": "The event id; JetStream de-duplicates on it."}},
            },
            "payload": {
                "allOf": [
                    {"$ref": keys[(CloudEvent, "validation")]["$ref"]},
                    {
                        "type": "object",
                        "required": ["type", "data"],
                        "properties": {
                            "type": {"const": definition.type},
                            "dataschema": _dataschema(definition),
                            "data": {"$ref": payload_ref},
                        },
                    },
                ]
            },
        }
        channel_id = definition.type.replace(".", "_")
        stream = stream_for(definition.subject).name
        if channel_id in channels:  # another version of a type already seen: one more message on its channel
            channels[channel_id]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
            operations[f"{definition.producer}_sends_{channel_id}"]["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{name}"})
            continue
        channels[channel_id] = {
            "address": definition.subject,
            "title": definition.type,
            "description": f"Stream {stream}. {definition.summary}",
            "x-airside-stream": stream,
            "bindings": {"nats": {}},
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"{definition.producer}_sends_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{definition.producer} publishes {definition.type}",
            "description": (
                f"Published to JetStream stream {stream} with `Nats-Msg-Id` set to the CloudEvent id, at least once: "
                "a consumer de-duplicates by `id` and does not rely on order."
            ),
            "bindings": {"nats": {"bindingVersion": NATS_BINDING_VERSION}},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
    operations["airside_receives_airside_flight_status"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/airside_flight_status"},
        "summary": "booking and lounge take flight status from airline systems",
        "description": (
            "Booking and lounge each read AIRSIDE_FLIGHTS through a durable consumer of their own. An absent field means "
            "unchanged; a status older than the one held is ignored; one stamped more than a day ahead is parked as a dead letter."
        ),
        "bindings": {"nats": {"bindingVersion": NATS_BINDING_VERSION}},
        "messages": [{"$ref": "#/channels/airside_flight_status/messages/FlightStatus"}],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Airside events",
            "version": "1.0.0",
            "description": (
                "Events of Airside's booking, lounge and callcenter services on NATS JetStream. "
                "Every message is a CloudEvents 1.0 structured JSON envelope whose `type` is also its subject; "
                "payloads ignore unknown fields, and a breaking change is published as a new dataschema version beside the old."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "nats": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "NATS JetStream (compose service `nats`)",
                "bindings": {"nats": {}},
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write() -> Path:
    DOCUMENT_PATH.write_text(render())
    return DOCUMENT_PATH

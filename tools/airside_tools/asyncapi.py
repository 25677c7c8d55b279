"""The AsyncAPI 3.0 document of every channel and message, generated from the payload models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

import airside
from airside.events import REGISTRY
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import stream_for

# The document ships in the platform, which serves it (airside.platform_routes): only writing it is tooling.
DOCUMENT_PATH = Path(airside.__file__).with_name("asyncapi.json")
REF = "#/components/schemas/{model}"


def _component_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.removeprefix("airside.").replace(".", "_").split("_"))


def build_document() -> dict[str, Any]:
    definitions = sorted(REGISTRY.values(), key=lambda definition: definition.type)
    models = [(CloudEvent, "validation")] + [(definition.payload, "validation") for definition in definitions]
    keys, shared_schemas = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(shared_schemas.get("$defs", {}))
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for definition in definitions:
        name = _component_name(definition.type)
        payload_ref = keys[(definition.payload, "validation")]["$ref"]
        messages[name] = {
            "name": definition.type,
            "title": name,
            "summary": definition.summary,
            "contentType": "application/cloudevents+json",
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
                            "dataschema": {"const": definition.dataschema},
                            "data": {"$ref": payload_ref},
                        },
                    },
                ]
            },
        }
        channel_id = definition.type.replace(".", "_")
        channels[channel_id] = {
            "address": definition.subject,
            "title": definition.type,
            "description": f"Stream {stream_for(definition.subject).name}. {definition.summary}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"{definition.producer}_sends_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{definition.producer} publishes {definition.type}",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
    operations["airside_receives_airside_flight_status"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/airside_flight_status"},
        "summary": "booking and lounge take flight status from airline systems",
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
            "nats": {"host": "nats:4222", "protocol": "nats", "description": "NATS JetStream (compose service `nats`)"},
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

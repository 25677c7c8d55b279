"""The CloudEvents 1.0 envelope (structured JSON) and the registry of event definitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from airside.db.columns import utcnow
from airside.logs import causation_id_var, correlation_id_var
from airside.tracing import current_traceparent
from airside.types import EventDateTime, consuming

PayloadT = TypeVar("PayloadT", bound=BaseModel)
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The public URL of the service this process runs (set_schema_base); the default is AirsideSettings' for port 8000.
_schema_base = ["http://localhost:8000"]


class EventRefused(ValueError):
    """An event its consumer will never apply, however often it comes: parked at once, never retried."""


class EnvelopeError(EventRefused):
    """The bytes are not an Airside event, or its payload does not parse."""


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str | None = None
    time: EventDateTime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))


@dataclass(frozen=True)
class EventDefinition(Generic[PayloadT]):
    """One event type: its subject (= type), payload model, schema version and producer."""

    type: str
    payload: type[PayloadT]
    summary: str
    producer: str
    version: int = 1

    @property
    def subject(self) -> str:
        return self.type

    @property
    def schema_path(self) -> str:
        """Where every service serves the payload's JSON Schema (airside.platform_routes), docs/events.md."""
        return f"/schemas/events/{self.type}/v{self.version}.json"

    def dataschema_at(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.schema_path

    @property
    def dataschema(self) -> str:
        """The URI this process's events carry: its own public URL (`AIRSIDE_PUBLIC_URL`) and the schema's path."""
        return self.dataschema_at(_schema_base[0])

    def json_schema(self) -> dict[str, Any]:
        """The payload's JSON Schema (2020-12) as pydantic writes it, the one the AsyncAPI document holds."""
        return {"$schema": JSON_SCHEMA_DIALECT, "$id": self.dataschema, **self.payload.model_json_schema(mode="validation")}

    def build(self, payload: PayloadT, *, subject: str | None, source: str) -> CloudEvent:
        return CloudEvent(
            id=str(uuid.uuid4()),
            source=source,
            type=self.type,
            subject=subject,
            time=utcnow(),
            dataschema=self.dataschema,
            correlationid=correlation_id_var.get(),
            causationid=causation_id_var.get(),
            traceparent=current_traceparent(),
            data=payload.model_dump(mode="json", exclude_none=True),
        )

    def parse(self, event: CloudEvent) -> PayloadT:
        """The payload as a consumer reads it: an enum value it does not know is kept (airside.types.OpenEnum)."""
        try:
            return self.payload.model_validate(event.data, context=consuming(self.type))
        except ValidationError as exc:
            raise EnvelopeError(f"{event.type} payload invalid: {exc}") from exc


# Every version of every event type; REGISTRY holds each type's newest, for callers that look up by type.
VERSIONS: dict[tuple[str, int], EventDefinition[Any]] = {}
REGISTRY: dict[str, EventDefinition[Any]] = {}


def define(type_: str, payload: type[PayloadT], summary: str, *, producer: str, version: int = 1) -> EventDefinition[PayloadT]:
    """A breaking change to a payload is a new version beside the old (docs/events.md), never an edit of it."""
    if (type_, version) in VERSIONS:
        raise ValueError(f"event {type_} v{version} defined twice")
    definition = EventDefinition(type=type_, payload=payload, summary=summary, producer=producer, version=version)
    VERSIONS[(type_, version)] = definition
    if type_ not in REGISTRY or REGISTRY[type_].version < version:
        REGISTRY[type_] = definition
    return definition


def definition(type_: str, version: int) -> EventDefinition[Any]:
    """One version of one event type; KeyError when it is not defined."""
    return VERSIONS[(type_, version)]


def set_schema_base(base_url: str) -> None:
    """Called once at start-up with the service's public URL: the base of the dataschema its events carry."""
    _schema_base[0] = base_url


def parse_envelope(raw: bytes) -> CloudEvent:
    try:
        return CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise EnvelopeError(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc

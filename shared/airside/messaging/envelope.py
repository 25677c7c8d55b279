"""The CloudEvents 1.0 envelope (structured JSON) and the registry of event definitions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from airside.db.columns import utcnow
from airside.logs import causation_id_var, correlation_id_var, traceparent
from airside.types import EventDateTime

PayloadT = TypeVar("PayloadT", bound=BaseModel)


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
    def dataschema(self) -> str:
        return f"airside:{self.type.removeprefix('airside.')}:{self.version}"

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
            traceparent=traceparent(),
            data=payload.model_dump(mode="json", exclude_none=True),
        )

    def parse(self, event: CloudEvent) -> PayloadT:
        try:
            return self.payload.model_validate(event.data)
        except ValidationError as exc:
            raise EnvelopeError(f"{event.type} payload invalid: {exc}") from exc


REGISTRY: dict[str, EventDefinition[Any]] = {}


def define(type_: str, payload: type[PayloadT], summary: str, *, producer: str) -> EventDefinition[PayloadT]:
    if type_ in REGISTRY:
        raise ValueError(f"event {type_} defined twice")
    definition = EventDefinition(type=type_, payload=payload, summary=summary, producer=producer)
    REGISTRY[type_] = definition
    return definition


def parse_envelope(raw: bytes) -> CloudEvent:
    try:
        return CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise EnvelopeError(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc

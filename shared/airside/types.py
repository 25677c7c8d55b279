"""Field types several services validate the same way."""

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetCoreSchemaHandler,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

log = logging.getLogger("airside.events")


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone must be in E.164 form, e.g. +8613800138000") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _at_most(length: int) -> Callable[[Any], Any]:
    """The documented maxLength holds for the text as sent, before surrounding blanks are stripped."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > length:
            raise PydanticCustomError("string_too_long", "String should have at most {max_length} characters", {"max_length": length})
        return value

    return check


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), BeforeValidator(_at_most(32)), AfterValidator(_e164)]


PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), BeforeValidator(_at_most(100))]
StationCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=36)]  # the UUID string a table keys its rows by


def _hh_mm(value: time) -> str:
    return value.strftime("%H:%M")


# A station's wall-clock time of day ("09:00"). JSON Schema's `format: time` demands an offset,
# which a local opening hour does not have, so the contract is a pattern.
LocalTime = Annotated[
    time,
    PlainSerializer(_hh_mm, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "examples": ["09:00"], "description": "Local time, HH:MM"}
    ),
]


# RFC 3339's full-date and date-time (what OpenAPI's `format: date` and `date-time` mean), ASCII digits
# only. Pydantic's lax parsing also reads numbers, and strings of digits, as unix timestamps (any
# number was 1970-01-01) and a midnight date-time as a date; strict mode refuses the strings a
# query or path parameter arrives as. So the text's shape is checked first, then pydantic parses it
# (and rejects 2024-02-30). Objects our own code passes (a date, a datetime) go through as they are.
_FULL_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATE = re.compile(_FULL_DATE)
# The offset is optional here so that a bare time is refused as AwareDatetime says: "should have timezone info".
_DATE_TIME = re.compile(_FULL_DATE + r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")


def _iso_text(shape: re.Pattern[str], kind: str, example: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, date) or (isinstance(value, str) and shape.fullmatch(value)):
            return value
        raise PydanticCustomError(f"{kind}_format", f"Input should be an ISO 8601 {kind} string such as {example}")

    return check


IsoDate = Annotated[date, BeforeValidator(_iso_text(_DATE, "date", "2024-05-01"))]
"""A calendar date as YYYY-MM-DD."""

_INSTANT_TEXT = BeforeValidator(_iso_text(_DATE_TIME, "datetime", "2024-05-01T09:30:00+08:00"))

IsoDateTime = Annotated[AwareDatetime, _INSTANT_TEXT]
"""An instant as an ISO 8601 date-time with its UTC offset (Z or +08:00); a bare local time is refused."""

EventDateTime = Annotated[datetime, _INSTANT_TEXT]
"""An instant in an event from a peer: ISO 8601 text as IsoDateTime, the offset left to the consumer's
rule (flight status reads a bare time as UTC, events.flights), as the published contract always had it."""


# --- enums in event payloads (docs/events.md, Versioning) ------------------------------------------

EnumT = TypeVar("EnumT", bound=StrEnum)
_CONSUMED_EVENT = "airside.consumed_event"  # the validation context's key: the type of the event being read
_UNKNOWN_LOGGED_MAX = 1000  # distinct (type, field, value) remembered; a flood of odd values cannot grow memory


def consuming(event_type: str) -> dict[str, str]:
    """The validation context a consumer parses an event's payload with: open enums keep what they do not know."""
    return {_CONSUMED_EVENT: event_type}


class OpenEnum:
    """`Annotated[E | str, OpenEnum(E)]`: an enum field of an event payload. Its schema is E's enum, and
    building a payload (a producer) or any other validation is held to E. A consumer parsing an event
    (context `consuming`) keeps a string E does not have, logged once per (type, field, value), so a
    producer adding a value breaks no consumer; the consumer reads the field with `known`."""

    def __init__(self, enum: type[StrEnum]) -> None:
        self.enum = enum

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any, strict: core_schema.ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
            try:
                return strict(value)
            except ValidationError:
                event_type = (info.context or {}).get(_CONSUMED_EVENT)
                if event_type is None or not isinstance(value, str):
                    raise
                _log_unknown(event_type, info.field_name or "?", self.enum, value)
                return value

        def serialize(value: Any, members: core_schema.SerializerFunctionWrapHandler) -> Any:
            return members(value) if isinstance(value, self.enum) else value

        # The enum's own schema inside, so the published JSON Schema (validation and serialization) lists E.
        return core_schema.with_info_wrap_validator_function(
            validate, handler.generate_schema(self.enum), serialization=core_schema.wrap_serializer_function_ser_schema(serialize)
        )


_unknown_logged: set[tuple[str, str, str]] = set()


def _log_unknown(event_type: str, field: str, enum: type[StrEnum], value: str) -> None:
    key = (event_type, field, value)
    if key in _unknown_logged or len(_unknown_logged) >= _UNKNOWN_LOGGED_MAX:
        return
    _unknown_logged.add(key)
    log.warning(
        "%s: %s %.100r is not a %s this service knows; kept as a string (logged once)",
        event_type,
        field,
        value,
        enum.__name__,
        extra={"event_type": event_type, "field": field, "value": value[:100]},
    )


def known(enum: type[EnumT], value: EnumT | str | None) -> EnumT | None:
    """The member an open enum field holds; None for a value this release does not know (or none)."""
    try:
        return enum(value)
    except ValueError:
        return None

"""Field types several services validate the same way."""

from datetime import time
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, PlainSerializer, StringConstraints, WithJsonSchema


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone must be in E.164 form, e.g. +8613800138000") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(_e164)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
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

"""Dates and times a caller sends are ISO 8601 text, nothing else (issue 10, found by R7's fuzzing).

`GET /v1/lounges/PEK-T3-VIP/expected-visits?flight_date=3.6397411064845196e-82` answered 200: pydantic's
lax mode read the number as a unix timestamp, 1970-01-01. The class: every `format: date` and
`format: date-time` parameter and body field of the three services, read from each one's OpenAPI
(so a field added later joins the table), sent numbers (as JSON and as text), timestamps, naive
date-times, a date-time for a date and a date for a date-time, non-ASCII digits and garbage: each is
a 422 problem naming the field. A valid value at the same place is not refused for that field,
which proves the table reaches the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
from e2e_steps import ADMIN, PEK_LOUNGE, Airside, Json, local_date, now

SERVICES = ("booking", "lounge", "callcenter")
FORMATS = ("date", "date-time")


@dataclass(frozen=True)
class TimeField:
    service: str
    method: str
    path: str
    where: str  # path, query or body
    keys: tuple[str | int, ...]  # the parameter's name, or the keys down the body to the field
    format: str

    @property
    def field(self) -> str:
        """As a problem names it: FastAPI's location joined with dots, e.g. body.flight.flight_date."""
        return ".".join([self.where, *map(str, self.keys)])

    def __str__(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path} {self.field} ({self.format})"


def fields_in(schema: Json, components: Json, keys: tuple[str | int, ...] = (), seen: frozenset[str] = frozenset()):
    """(keys, format) of every date or date-time inside a JSON schema."""
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            yield from fields_in(components[name], components, keys, seen | {name})
        return
    if schema.get("format") in FORMATS:
        yield keys, schema["format"]
    for alternative in (*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())):
        yield from fields_in(alternative, components, keys, seen)
    for name, inner in schema.get("properties", {}).items():
        yield from fields_in(inner, components, (*keys, name), seen)
    if "items" in schema:
        yield from fields_in(schema["items"], components, (*keys, 0), seen)


async def time_fields(airside: Airside) -> list[TimeField]:
    found = []
    for service in SERVICES:
        document = (await airside.http.get(f"{getattr(airside, service).url}/openapi.json")).json()
        components = document.get("components", {}).get("schemas", {})
        for path, item in document["paths"].items():
            for method, operation in item.items():
                for parameter in operation.get("parameters", []):
                    for keys, format_ in fields_in(parameter.get("schema", {}), components, (parameter["name"],)):
                        assert keys == (parameter["name"],), f"{path}: a date inside parameter {parameter['name']}"
                        found.append(TimeField(service, method, path, parameter["in"], keys, format_))
                for content in operation.get("requestBody", {}).get("content", {}).values():
                    for keys, format_ in fields_in(content.get("schema", {}), components):
                        found.append(TimeField(service, method, path, "body", keys, format_))
    return found


# Refused wherever the value arrives as text (a path or query parameter, a JSON string).
NOT_AN_ISO_TEXT = [
    "3.6397411064845196e-82",
    "1700000000",
    "1700000000.5",
    "0",
    "-1",
    "1e3",
    "NaN",
    "inf",
    "",
    " ",
    "yesterday",
    "2024-5-1",
    "01/05/2024",
    "2024-13-01",
    "2024-02-30",
    "\uff12\uff10\uff12\uff14-05-01",  # full-width digits
    "2024-05-0\u0661",  # an Arabic-Indic digit
    "20240501",
]
NOT_A_DATE = [*NOT_AN_ISO_TEXT, "2024-05-01T00:00:00Z", "2024-05-01T00:00:00", "2024-05-01 00:00"]
NOT_AN_INSTANT = [
    *NOT_AN_ISO_TEXT,
    "2024-05-01",  # a day is no instant
    "2024-05-01T10:00:00",  # naive: whose ten o'clock?
    "2024-05-01T10:00:00.250",
    "2024-05-01 10:00:00",
    "2024-05-01T10:00",
    "2024-05-01T25:00:00Z",
    "2024-05-01T10:00:00+24:00",
    "20240501T100000Z",
    "2024-05-01T10:00:00Z junk",
]
# Only JSON can carry these; a number is what pydantic's lax mode read as a unix timestamp.
NOT_TEXT = [1700000000, 3.6397411064845196e-82, 0, -1, 1.5, True, False, [], {}, ["2024-05-01"], {"date": "2024-05-01"}]


def problem_fields(response: httpx.Response) -> set[str]:
    """The fields a 422 problem names (none for any other answer)."""
    if response.status_code != 422:
        return set()
    assert response.headers["content-type"] == "application/problem+json", response.text
    return {error["field"] for error in response.json().get("errors") or []}


def refused(field: TimeField) -> list[Any]:
    texts = NOT_A_DATE if field.format == "date" else NOT_AN_INSTANT
    if field.where == "path":  # a path segment is never empty, and a / ends it: no route would match
        return [text for text in texts if text and "/" not in text]
    return [*texts, *NOT_TEXT] if field.where == "body" else texts


def valid(field: TimeField) -> str:
    """Near now: a flight status may not lie more than a day ahead, and republishing since an hour
    from now marks nothing."""
    soon = now() + timedelta(hours=1)
    return local_date(soon).isoformat() if field.format == "date" else soon.isoformat()


PATH_VALUES = {"flight_no": "CA1831", "lounge_id": PEK_LOUNGE, "code": "PEK", "flight_date": "2031-05-01", "day": "2031-05-01"}


def nested(keys: tuple[str | int, ...], value: Any) -> Any:
    """{"flight": {"flight_date": value}}, or [value] for an array's item: only the field under test."""
    for key in reversed(keys):
        value = [value] if isinstance(key, int) else {key: value}
    return value


async def send(airside: Airside, field: TimeField, value: Any) -> httpx.Response:
    values = {name: PATH_VALUES.get(name, "e2e-no-such-record") for name in _path_names(field.path)}
    params: dict[str, Any] = {}
    body: Any = None
    if field.where == "path":
        values[field.keys[0]] = value
    elif field.where == "query":
        params[str(field.keys[0])] = value
    else:
        body = nested(field.keys, value)
    url = getattr(airside, field.service).url + field.path.format(**{name: quote(str(text), safe="") for name, text in values.items()})
    headers = {**ADMIN, "If-Match": '"1"', "Idempotency-Key": "e2e-dates-and-times"}
    return await airside.http.request(field.method.upper(), url, params=params, json=body, headers=headers)


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


async def test_every_date_and_time_a_caller_sends_is_iso_8601_text(airside: Airside):
    fields = await time_fields(airside)
    named = {str(field) for field in fields}
    # What the table must hold at least: a query, a path, a nested body and an array item per kind.
    for known in (
        "lounge GET /v1/lounges/{lounge_id}/expected-visits query.flight_date (date)",
        "booking GET /v1/flights/{flight_no}/{flight_date} path.flight_date (date)",
        "booking POST /v1/orders body.flight.flight_date (date)",
        "booking POST /v1/orders body.meet_at (date-time)",
        "callcenter PUT /v1/stations/{code}/calendar body.holidays.0 (date)",
        "callcenter GET /v1/callbacks query.due_before (date-time)",
        "callcenter POST /v1/callbacks/{callback_id}/attempts body.call_back_at (date-time)",
        "booking POST /v1/ops/republish body.since (date-time)",
    ):
        assert known in named, f"{known} missing from {sorted(named)}"
    accepted, not_refused = [], []
    for field in fields:
        response = await send(airside, field, valid(field))
        if response.status_code >= 500 or (response.status_code == 422 and field.field in problem_fields(response)):
            accepted.append(f"{field} refused a valid value: {response.status_code} {response.text[:300]}")
        for value in refused(field):
            response = await send(airside, field, value)
            if response.status_code != 422 or field.field not in problem_fields(response):
                not_refused.append(f"{field} = {value!r}: {response.status_code} {response.text[:200]}")
    assert not accepted, "\n".join(accepted)
    assert not not_refused, f"{len(not_refused)} not refused:\n" + "\n".join(not_refused)


async def test_a_number_for_a_flight_date_is_not_the_first_of_january_1970(airside: Airside):
    """The request R7's fuzzing found, as it sent it."""
    path = f"/v1/lounges/{PEK_LOUNGE}/expected-visits"
    refused = await airside.lounge.call("GET", path, ADMIN, params={"flight_date": "3.6397411064845196e-82"}, expect=422)
    assert problem_fields(refused) == {"query.flight_date"}, refused.json()
    listed = await airside.lounge.call("GET", path, ADMIN, params={"flight_date": local_date(now()).isoformat()}, expect=200)
    assert isinstance(listed.json()["items"], list)

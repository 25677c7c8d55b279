"""Breaking changes between two AsyncAPI documents' event payloads, per event type and version (docs/events.md, Versioning).

The payload schemas may only grow within one version: a consumer written against the older document must read every
event of the newer. Pure functions over two parsed documents; `airside-dev events-compat` runs them in `make lint`.
"""

from __future__ import annotations

import re
from typing import Any

Json = dict[str, Any]
EventKey = tuple[str, int]
# dataschema forms: "airside:booking.member.registered:1" and ".../schemas/events/{type}/v{n}.json".
VERSION_PATTERNS = (re.compile(r"/v(\d+)\.json$"), re.compile(r":(\d+)$"))


def _version(message: Json, part: Json) -> int:
    """The message's schema version from its dataschema const (either form), else its `version` const, else 1."""
    properties = part.get("properties", {})
    dataschema = properties.get("dataschema", {}).get("const")
    if isinstance(dataschema, str):
        for pattern in VERSION_PATTERNS:
            if found := pattern.search(dataschema):
                return int(found.group(1))
    version = properties.get("version", {}).get("const", message.get("x-airside-version", 1))
    return int(version)


def event_payloads(document: Json) -> dict[EventKey, Json]:
    """Each message's `data` schema keyed by (event type, version)."""
    payloads: dict[EventKey, Json] = {}
    for message in document.get("components", {}).get("messages", {}).values():
        for part in message.get("payload", {}).get("allOf", [message.get("payload", {})]):
            data = part.get("properties", {}).get("data")
            if data is not None:
                event_type = part["properties"].get("type", {}).get("const", message.get("name"))
                payloads[(event_type, _version(message, part))] = data
    return payloads


def _resolve(document: Json, schema: Json) -> Json:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if len(schema.get("allOf", [])) == 1:  # pydantic wraps a described $ref in a one-item allOf
        return _resolve(document, {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}})
    return schema


def _variants(document: Json, schema: Json) -> list[Json]:
    """The alternatives a value may take (anyOf/oneOf flattened), each resolved."""
    schema = _resolve(document, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [variant for alternative in alternatives for variant in _variants(document, alternative)]
    return [schema]


def _kind(schema: Json) -> str:
    """The JSON type of one variant, with its format (a date-time string is not any string)."""
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        name = "|".join(sorted(kinds))
    elif "const" in schema or "enum" in schema:
        values = schema.get("enum", [schema.get("const")])
        name = "|".join(sorted({type(value).__name__ for value in values}))
    elif "properties" in schema:
        name = "object"
    else:
        name = "any"
    return f"{name}({schema['format']})" if "format" in schema else name


def _enum(schema: Json) -> set[Any] | None:
    if "enum" in schema:
        return set(schema["enum"])
    if "const" in schema:
        return {schema["const"]}
    return None


def _compare(old_doc: Json, old: Json, new_doc: Json, new: Json, where: str) -> list[str]:
    old_variants = {_kind(variant): variant for variant in _variants(old_doc, old)}
    new_variants = {_kind(variant): variant for variant in _variants(new_doc, new)}
    if "any" in old_variants:
        return []  # a consumer that accepted anything accepts the new values too
    if set(old_variants) != set(new_variants):
        return [f"{where}: type changed from {' or '.join(sorted(old_variants))} to {' or '.join(sorted(new_variants))}"]
    problems: list[str] = []
    for kind, old_variant in old_variants.items():
        new_variant = new_variants[kind]
        old_values, new_values = _enum(old_variant), _enum(new_variant)
        if old_values is not None and new_values is not None:
            problems += [f"{where}: enum value {value!r} removed" for value in sorted(old_values - new_values, key=repr)]
        if "items" in old_variant and "items" in new_variant:
            problems += _compare(old_doc, old_variant["items"], new_doc, new_variant["items"], f"{where}[]")
        problems += _compare_object(old_doc, old_variant, new_doc, new_variant, where)
    return problems


def _compare_object(old_doc: Json, old: Json, new_doc: Json, new: Json, where: str) -> list[str]:
    old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
    problems = [f"{where}.{name}: field removed or renamed" for name in old_fields if name not in new_fields]
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{where}.{name}: field newly required" for name in sorted(newly_required)]
    for name in old_fields.keys() & new_fields.keys():
        problems += _compare(old_doc, old_fields[name], new_doc, new_fields[name], f"{where}.{name}")
    return sorted(problems)


def breaking_changes(old: Json, new: Json) -> list[str]:
    """Every breaking change from `old` to `new`, each naming the event, version and field; [] when compatible.

    A new event type or a new version beside the old is not a change of an existing version; a removed one is."""
    old_payloads, new_payloads = event_payloads(old), event_payloads(new)
    problems: list[str] = []
    for (event_type, version), old_data in sorted(old_payloads.items()):
        label = f"{event_type} v{version}"
        if (event_type, version) not in new_payloads:
            problems.append(f"{label}: event version removed")
            continue
        problems += [f"{label}: {problem}" for problem in _compare(old, old_data, new, new_payloads[(event_type, version)], "data")]
    return problems

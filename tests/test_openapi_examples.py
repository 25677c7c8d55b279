"""Issue 12: the examples of the committed OpenAPI documents (docs/openapi/) are ones the schemas accept,
and every request body has one: a front-end team copies them into its first calls and its mocks.

Each example is validated, JSON Schema 2020-12 (what OpenAPI 3.1 schemas are) with formats checked,
against the schema that carries it, its references resolved in the document itself."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENTS = Path(__file__).resolve().parents[1] / "docs" / "openapi"
SERVICES = ("booking", "lounge", "callcenter")
Json = dict[str, Any]
# Keywords whose values are schemas, or lists or maps of schemas.
ONE = ("items", "additionalProperties", "propertyNames", "not", "contains")
MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
NAMED = ("properties", "patternProperties", "$defs")


def document(service: str) -> Json:
    return json.loads((DOCUMENTS / f"{service}.json").read_text())


def pointer(*parts: str | int) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def schemas_within(schema: Any, at: str) -> Iterator[tuple[str, Json]]:
    """Every schema in this one, itself included, with its JSON pointer in the document."""
    if not isinstance(schema, dict):
        return
    yield at, schema
    for key in ONE:
        yield from schemas_within(schema.get(key), at + pointer(key))
    for key in MANY:
        for index, option in enumerate(schema.get(key, [])):
            yield from schemas_within(option, at + pointer(key, index))
    for key in NAMED:
        for name, option in schema.get(key, {}).items():
            yield from schemas_within(option, at + pointer(key, name))


def media_types(spec: Json) -> Iterator[tuple[str, Json]]:
    """Each request body's and response's content by media type, with its pointer."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            bodies = [(pointer("paths", path, method, "requestBody"), operation.get("requestBody", {}))]
            bodies += [(pointer("paths", path, method, "responses", status), answer) for status, answer in operation["responses"].items()]
            for at, body in bodies:
                for kind, media in body.get("content", {}).items():
                    yield at + pointer("content", kind), media


def schema_roots(spec: Json) -> Iterator[tuple[str, Json]]:
    for name, schema in spec["components"]["schemas"].items():
        yield pointer("components", "schemas", name), schema
    for at, media in media_types(spec):
        yield at + pointer("schema"), media.get("schema", {})
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for index, parameter in enumerate(operation.get("parameters", [])):
                yield pointer("paths", path, method, "parameters", index, "schema"), parameter["schema"]


def examples(spec: Json) -> Iterator[tuple[str, Any]]:
    """(pointer of the schema it must satisfy, example) for every example the document holds."""
    for root, schema in schema_roots(spec):
        for at, found in schemas_within(schema, root):
            for example in found.get("examples", []):
                yield at, example
    for at, media in media_types(spec):
        if "example" in media:
            yield at + pointer("schema"), media["example"]
        for example in media.get("examples", {}).values():
            yield at + pointer("schema"), example["value"]


def validator(spec: Json, at: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", Resource(contents=spec, specification=DRAFT202012))
    # A $ref to "#/components/..." inside the document resolves against the document, its base.
    return Draft202012Validator({"$ref": f"urn:openapi#{at}"}, registry=registry, format_checker=FormatChecker())


CASES = [(service, at, example) for service in SERVICES for at, example in examples(document(service))]


def test_the_documents_hold_examples():
    assert {service for service, *_ in CASES} == set(SERVICES)


@pytest.mark.parametrize(("service", "at", "example"), CASES, ids=[f"{service} {at}" for service, at, _ in CASES])
def test_every_example_is_valid_for_its_schema(service, at, example):
    spec = document(service)
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator(spec, at).iter_errors(example)]
    assert errors == []


def exampled(spec: Json, schema: Json) -> bool:
    """The body carries an example: on its schema, the schema it refers to, its non-null option or its items."""
    if "examples" in schema:
        return True
    if "$ref" in schema:
        return exampled(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "anyOf" in schema:
        return all(exampled(spec, option) for option in schema["anyOf"] if option != {"type": "null"})
    return schema.get("type") == "array" and exampled(spec, schema["items"])


BODIES = [
    (service, f"{method.upper()} {path}", media["schema"])
    for service in SERVICES
    for path, item in document(service)["paths"].items()
    for method, operation in item.items()
    for media in operation.get("requestBody", {}).get("content", {}).values()
]


@pytest.mark.parametrize(("service", "route", "schema"), BODIES, ids=[f"{service} {route}" for service, route, _ in BODIES])
def test_every_request_body_has_an_example(service, route, schema):
    assert exampled(document(service), schema)


CREATED = [
    (service, f"{method.upper()} {path}", operation["responses"]["201"]["content"]["application/json"]["schema"])
    for service in SERVICES
    for path, item in document(service)["paths"].items()
    for method, operation in item.items()
    if "201" in operation["responses"]
]


@pytest.mark.parametrize(("service", "route", "schema"), CREATED, ids=[f"{service} {route}" for service, route, _ in CREATED])
def test_what_a_create_answers_has_an_example(service, route, schema):
    assert exampled(document(service), schema)


# Each service's models are read in an interpreter of its own (one service per process).
VALIDATE_WITH_MODELS = """
import json, sys
from {service}.main import app
from airside.openapi_examples import models
refused = []
for model in models(app):
    extra = model.model_config.get("json_schema_extra")
    for example in extra.get("examples", []) if isinstance(extra, dict) else []:
        try:
            model.model_validate(example)
        except ValueError as error:
            refused.append(f"{{model.__name__}}: {{error}}")
json.dump(refused, sys.stdout)
"""


@pytest.mark.parametrize("service", SERVICES)
def test_every_example_is_valid_for_its_model(service):
    """The model's own validators too (a phone number, a time zone, one way into a lounge), which no schema says."""
    script = VALIDATE_WITH_MODELS.format(service=service)
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout) == []


def answered(spec: Json) -> set[str]:
    """The schemas a 2xx answer holds: its own, or the items of its page."""
    names = set()
    for item in spec["paths"].values():
        for operation in item.values():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if status.startswith("2") and "$ref" in schema:
                    name = schema["$ref"].rsplit("/", 1)[1]
                    items = spec["components"]["schemas"][name]["properties"].get("items", {}).get("items", {})
                    names.add(items["$ref"].rsplit("/", 1)[1] if name.endswith("Page") else name)
    return names


# Answers without an example: the problem registry (its fields carry examples of their own).
NOT_EXAMPLED = {"ProblemType", "ProblemTypes"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_resource_answered_has_an_example(service):
    spec = document(service)
    assert sorted(name for name in answered(spec) - NOT_EXAMPLED if "examples" not in spec["components"]["schemas"][name]) == []

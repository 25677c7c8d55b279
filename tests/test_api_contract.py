"""What a generated front-end client relies on in the three OpenAPI documents (issue 12, docs/http.md):

- a response field that holds one of a fixed set of values is an enum, not a bare string, whether its
  name says so (`status`, `priority`, `direction`, ...) or the code constrains it;
- every list is a page, `{items, next_cursor}`, and takes `limit` and `cursor`;
- every operation has a summary of its own.

Each document is read from its service's app in an interpreter of its own (one service per process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

SERVICES = ("booking", "lounge", "callcenter")
Json = dict[str, Any]

# Field names that hold one of a fixed set of values wherever they appear in an answer.
ENUM_NAMES = frozenset(
    {
        "status", "priority", "direction", "kind", "channel", "role", "purpose", "outcome", "type", "tier", "visibility",
        "category", "method", "fees_method", "payment_method", "bill_status", "author_kind", "complaint_stage",
        "approver_role", "entitlement", "order_status",
    }
)  # fmt: skip
# Strings by decision, each with its reason (docs/http.md, enums).
FREE_STRINGS = {
    # A problem type's `type` is its URI (/problems/<slug>), one per slug of the registry.
    *((service, "ProblemType", "type") for service in SERVICES),
}
# GETs that answer one document although their path ends in no record's id.
SINGLE_DOCUMENTS = {
    "/healthz", "/readyz", "/metrics", "/asyncapi.json", "/schemas/events/{event_type}/v{version}.json", "/problems",
    "/v1/reports/daily-services", "/v1/reports/daily-sales", "/v1/reports/kpis", "/v1/reports/callbacks",
    "/v1/concierges/{concierge_id}/schedule", "/v1/lounges/{lounge_id}/occupancy", "/v1/visits/{visit_id}/bill",
    "/v1/stations/{code}/calendar",
}  # fmt: skip


@cache
def document(service: str) -> Json:
    dump = f"import json, sys; from {service}.main import app; json.dump(app.openapi(), sys.stdout)"
    return json.loads(subprocess.run([sys.executable, "-c", dump], check=True, capture_output=True, text=True, timeout=120).stdout)


def resolve(spec: Json, schema: Json) -> Json:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def answered_schemas(spec: Json) -> set[str]:
    """The component schemas a 2xx answer can hold, followed through every reference."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node and (name := node["$ref"].rsplit("/", 1)[1]) not in found:
                found.add(name)
                walk(spec["components"]["schemas"][name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for item in spec["paths"].values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    walk(response)
    return found


def bare_string(spec: Json, schema: Json) -> bool:
    """A string of any value: no enum, const, format or pattern narrows it (a nullable one included)."""
    schema = resolve(spec, schema)
    if "anyOf" in schema:
        return any(bare_string(spec, option) for option in schema["anyOf"])
    return schema.get("type") == "string" and not {"enum", "const", "format", "pattern"} & set(schema)


@pytest.mark.parametrize("service", SERVICES)
def test_fields_of_a_fixed_set_of_values_are_enums_in_answers(service):
    spec = document(service)
    bare = {
        (service, name, field)
        for name in answered_schemas(spec)
        for field, schema in spec["components"]["schemas"][name].get("properties", {}).items()
        if field in ENUM_NAMES and bare_string(spec, schema)
    }
    assert bare - FREE_STRINGS == set(), "answer fields that are bare strings though their values are a fixed set"
    assert {free for free in FREE_STRINGS if free[0] == service} <= bare, "a free string of the table is typed now: drop it from the table"


def test_a_ticket_origin_is_an_enum_though_a_flight_origin_is_an_airport():
    """A name the table cannot hold for every schema: a ticket's `origin` is what opened it (TicketOrigin)."""
    spec = document("callcenter")
    assert not bare_string(spec, spec["components"]["schemas"]["TicketPublic"]["properties"]["origin"])


def list_routes(spec: Json) -> dict[str, Json]:
    """Every GET answering JSON that is not one record (its path ends in the record's id) or a single document."""
    routes = {}
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if operation is None or path.endswith("}") or path in SINGLE_DOCUMENTS:
            continue
        if "application/json" in operation["responses"].get("200", {}).get("content", {}):
            routes[path] = operation
    return routes


@pytest.mark.parametrize("service", SERVICES)
def test_every_list_is_a_page_that_takes_limit_and_cursor(service):
    spec = document(service)
    routes = list_routes(spec)
    assert len(routes) >= 5
    wrong = {}
    for path, operation in routes.items():
        schema = resolve(spec, operation["responses"]["200"]["content"]["application/json"]["schema"])
        properties = schema.get("properties", {})
        query = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"}
        if set(properties) != {"items", "next_cursor"} or properties["items"].get("type") != "array" or not {"limit", "cursor"} <= query:
            wrong[path] = (sorted(properties), sorted(query))
    assert wrong == {}, "lists that are not {items, next_cursor} with limit and cursor"


@pytest.mark.parametrize("service", SERVICES)
def test_no_get_answers_a_bare_array(service):
    """A record's own sub-list or a single document must not be a bare array either."""
    spec = document(service)
    arrays = []
    for path, item in spec["paths"].items():
        content = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if resolve(spec, content.get("application/json", {}).get("schema", {})).get("type") == "array":
            arrays.append(path)
    assert arrays == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_is_summarised_in_its_own_words(service):
    """A summary set on the route (`summary=`), not FastAPI's title-cased function name ("Create Order"):
    a generated client shows it as the method's doc line, so no two operations share one."""
    spec = document(service)
    summaries = [operation["summary"] for item in spec["paths"].values() for operation in item.values()]
    assert [summary for summary in summaries if len(summary.split()) < 2 or summary == summary.title()] == []
    assert len(summaries) == len(set(summaries))

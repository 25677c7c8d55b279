"""Issue 12: every operation of the three committed OpenAPI documents (docs/openapi/, kept fresh by
`make lint`) is one a generated client can use as it is (docs/http.md, "The OpenAPI document").

Whether the declared responses are the ones the services give is tests/test_openapi_fuzz.py's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from airside.problem_types import MEANINGS

DOCUMENTS = Path(__file__).resolve().parents[1] / "docs" / "openapi"
SERVICES = ("booking", "lounge", "callcenter")
PROBLEM = "application/problem+json"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PLATFORM = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}


def document(service: str) -> dict[str, Any]:
    return json.loads((DOCUMENTS / f"{service}.json").read_text())


def operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (service, path, method, operation)
        for service in SERVICES
        for path, item in document(service)["paths"].items()
        for method, operation in item.items()
    ]


OPERATIONS = operations()
IDS = [f"{service} {method.upper()} {path}" for service, path, method, _ in OPERATIONS]


def problem_types(response: dict[str, Any]) -> list[str]:
    return response["content"][PROBLEM]["schema"]["properties"]["type"]["enum"]


def declared(operation: dict[str, Any]) -> dict[str, list[str]]:
    """The problem types of each status the operation declares."""
    responses = operation["responses"]
    return {status: problem_types(response) for status, response in responses.items() if PROBLEM in response.get("content", {})}


@pytest.mark.parametrize(("service", "path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_is_named_described_and_declares_its_problems_and_headers(service, path, method, operation):
    tag = operation["tags"][0]
    assert SNAKE_CASE.match(operation["operationId"]) and operation["operationId"].startswith(f"{tag}_")
    assert operation["summary"].strip() and operation["description"].strip()
    for status, response in operation["responses"].items():
        assert response["headers"]["X-Correlation-ID"]["required"] is True, status
        if PROBLEM in response.get("content", {}):
            assert status.startswith(("4", "5")) and not set(response["content"]) - {PROBLEM}, status
            assert problem_types(response), status
            assert all(MEANINGS.get(kind.removeprefix("/problems/")) for kind in problem_types(response)), status
    if PROBLEM in (status_503 := operation["responses"].get("503", {})).get("content", {}):
        assert status_503["headers"]["Retry-After"]["required"] is True
    if "requestBody" in operation:
        assert "/problems/validation_error" in declared(operation)["422"]
    if method == "patch":
        (if_match,) = [parameter for parameter in operation["parameters"] if parameter["name"] == "If-Match"]
        assert if_match["required"] is True and if_match["in"] == "header"
        assert declared(operation)["412"] == ["/problems/precondition_failed"]
        assert declared(operation)["428"] == ["/problems/precondition_required"]
    if path in PLATFORM:
        assert declared(operation) == {}, "a platform route answers none of the API's problems"
    if path.startswith("/v1/"):
        assert {"/problems/unauthorized", "/problems/invalid_token"} <= set(declared(operation)["401"])
        assert declared(operation)["503"] == ["/problems/unavailable"]


@pytest.mark.parametrize("service", SERVICES)
def test_operation_ids_are_unique_and_schema_names_are_plain(service):
    found = document(service)
    ids = [operation["operationId"] for item in found["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids))
    assert [name for name in found["components"]["schemas"] if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)] == []
    used = {operation["tags"][0] for item in found["paths"].values() for operation in item.values()}
    assert {tag["name"] for tag in found["tags"]} == used
    assert all(tag["description"] for tag in found["tags"])
    assert [server["url"] for server in found["servers"]][1:] == [f"http://localhost:8080/{service}"]


# What a front end relies on, spelled out: the derived lists hold these (and stay exact: no 409 on a read).
EXPECTED = [
    ("booking", "post", "/v1/orders", "409", {"/problems/too_late", "/problems/tier_required"}),
    ("booking", "get", "/v1/orders/{order_id}", "409", None),
    ("lounge", "post", "/v1/lounges/{lounge_id}/visits", "409", {"/problems/lounge_full", "/problems/not_entitled", "/problems/closed"}),
    ("lounge", "post", "/v1/visits/{visit_id}/sales", "409", {"/problems/out_of_stock", "/problems/visit_closed"}),
    ("callcenter", "post", "/v1/tickets/{ticket_id}/merge", "409", {"/problems/merge_into_itself", "/problems/merge_target_closed"}),
    ("callcenter", "post", "/v1/tickets/{ticket_id}/complaint/approve", "403", {"/problems/own_proposal", "/problems/forbidden"}),
]


@pytest.mark.parametrize(("service", "method", "path", "status", "kinds"), EXPECTED)
def test_the_problems_a_route_raises_are_read_from_its_code(service, method, path, status, kinds):
    found = declared(document(service)["paths"][path][method])
    if kinds is None:
        assert status not in found
    else:
        assert kinds <= set(found[status])


def test_every_meaning_is_of_a_problem_some_service_answers():
    answered = {kind.removeprefix("/problems/") for *_, operation in OPERATIONS for kinds in declared(operation).values() for kind in kinds}
    framework_only = {"method_not_allowed", "internal_error"}  # answered for no route in particular
    assert set(MEANINGS) - framework_only == answered


def test_the_docs_list_every_problem_type():
    http = (DOCUMENTS.parent / "http.md").read_text()
    assert [slug for slug in MEANINGS if f"| `{slug}` |" not in http] == []


# The bodies a front end sends first carry an example (Spectral checks each is valid for its schema).
EXAMPLED = [
    ("booking", "post", "/v1/members"),
    ("booking", "post", "/v1/orders"),
    ("lounge", "post", "/v1/lounges/{lounge_id}/visits"),
    ("lounge", "post", "/v1/visits/{visit_id}/sales"),
    ("callcenter", "post", "/v1/tickets"),
]


@pytest.mark.parametrize(("service", "method", "path"), EXAMPLED)
def test_the_main_request_bodies_carry_an_example(service, method, path):
    found = document(service)
    reference = found["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert found["components"]["schemas"][reference.rsplit("/", 1)[1]]["examples"]

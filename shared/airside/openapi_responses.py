"""A service's OpenAPI document as a generated client needs it (docs/http.md, "The OpenAPI document").

FastAPI's document is completed once, from the routes themselves:
- each operation lists exactly the problems its code can raise (`problem_scan`), per status, as
  `application/problem+json` with the `type`s it may carry, plus the framework's own refusals
  (an unreadable body, invalid input, the database away);
- the headers it sends: `X-Correlation-ID` on every answer, `ETag` where the code sets one,
  `Idempotent-Replay` where `Idempotency-Key` is read, `Retry-After` on 503, `WWW-Authenticate`
  on 401; `If-Match` is required on every PATCH;
- stable operationIds (`<tag>_<view function>`), schema names without module paths or generics,
  tag descriptions and the servers of the embedded run and the gateway;
- the models' examples with their nulls, which FastAPI's encoder drops (`openapi_examples`).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from airside.openapi_examples import restore_examples
from airside.openapi_names import clean_schema_names, operation_id, servers, tag_list
from airside.problem_routes import problem_router
from airside.problem_scan import Raised
from airside.problem_types import FRAMEWORK
from airside.problems import PROBLEM_MEDIA_TYPE, ProblemBody
from airside.route_contract import Operation, operations

FRAMEWORK_PROBLEM = {problem.status: problem for problem in FRAMEWORK}
INFO = {
    "description": "One Airside service. Conventions (tokens, errors, idempotency, ETags, lists): docs/http.md;"
    " every problem `type` is described at `GET /problems/{slug}`.",
    "contact": {"name": "Airside platform team"},
}
CORRELATION_ID = {
    "description": "The request's correlation id (the one sent, or a new one): quote it to support",
    "required": True,
    "schema": {"type": "string"},
}
HEADERS = {
    "ETag": {"description": 'The version read, for `If-Match` on a change, e.g. "3"', "schema": {"type": "string"}},
    "Idempotent-Replay": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {"description": "Seconds to wait before retrying", "required": True, "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "The Bearer challenge (RFC 6750)", "required": True, "schema": {"type": "string"}},
}


def declared_problems(operation: Operation, document_operation: dict[str, Any]) -> dict[int, set[Raised]]:
    """The problems an operation may answer, by status: its code's and the framework's."""
    problems = set(operation.problems)
    if document_operation.get("parameters") or "requestBody" in document_operation:
        problems.add(FRAMEWORK_PROBLEM[422])
    if "requestBody" in document_operation:
        problems.add(FRAMEWORK_PROBLEM[400])
    if "{" in operation.path:  # a path value holding a `/` leads to no route
        problems.add(FRAMEWORK_PROBLEM[404])
    if operation.path.startswith("/v1/"):  # every API route reads the database
        problems.add(FRAMEWORK_PROBLEM[503])
    by_status: dict[int, set[Raised]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, set()).add(problem)
    return by_status


def problem_response(status: int, problems: set[Raised]) -> dict[str, Any]:
    slugs = sorted({problem.slug for problem in problems})
    listed = ", ".join(f"`{slug}`" for slug in slugs)
    response: dict[str, Any] = {
        "description": f"{HTTPStatus(status).phrase}: {listed} (see /problems/{{slug}})",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {
                    "allOf": [{"$ref": "#/components/schemas/ProblemBody"}],
                    "properties": {"type": {"type": "string", "enum": [f"/problems/{slug}" for slug in slugs]}},
                }
            }
        },
        "headers": {"X-Correlation-ID": CORRELATION_ID},
    }
    if status == 503:
        response["headers"]["Retry-After"] = HEADERS["Retry-After"]
    if status == 401:
        response["headers"]["WWW-Authenticate"] = HEADERS["WWW-Authenticate"]
    return response


def complete_operation(operation: Operation, document_operation: dict[str, Any]) -> None:
    responses = document_operation["responses"]
    responses.pop("422", None)  # FastAPI's HTTPValidationError: we answer problem+json instead
    reads = {parameter["name"] for parameter in document_operation.get("parameters", ()) if parameter["in"] == "header"}
    for status, success in responses.items():
        headers = success.setdefault("headers", {})
        headers["X-Correlation-ID"] = CORRELATION_ID
        if status.startswith("2") and operation.sends_etag:
            headers["ETag"] = HEADERS["ETag"]
        if status.startswith("2") and "Idempotency-Key" in reads:
            headers["Idempotent-Replay"] = HEADERS["Idempotent-Replay"]
        if status == "503":  # a route's own 503 (/readyz): Retry-After while the database is away, none while draining
            headers["Retry-After"] = {**HEADERS["Retry-After"], "required": False}
    for status, problems in sorted(declared_problems(operation, document_operation).items()):
        responses[str(status)] = problem_response(status, problems)
    if operation.method == "patch":
        for parameter in document_operation.get("parameters", ()):
            if parameter["in"] == "header" and parameter["name"] == "If-Match":
                parameter["required"] = True
    document_operation["operationId"] = operation_id(operation.tags, operation.name)


def problem_schemas() -> dict[str, Any]:
    """ProblemBody and the models it refers to, as components."""
    schema = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ProblemBody": schema}


def complete(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    known = operations(app)
    for path, items in document.get("paths", {}).items():
        for method, document_operation in items.items():
            complete_operation(known[(path, method)], document_operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem_schemas())
    if "#/components/schemas/HTTPValidationError" not in json.dumps(document["paths"]):
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
    document["tags"] = tag_list(sorted({tag for operation in known.values() for tag in operation.tags}))
    document["servers"] = servers(app.state.service_name)
    document["info"].update(INFO)
    restore_examples(document, app)
    return clean_schema_names(document)


def document_responses(app: FastAPI) -> None:
    """Serve the app's completed OpenAPI document, and its problem types at /problems (the `type` URIs)."""
    app.include_router(problem_router)
    build = app.openapi
    done: dict[int, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        document = build()
        if id(document) not in done:  # FastAPI caches its document; completing it is done once
            done.clear()
            done[id(complete(document, app))] = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]

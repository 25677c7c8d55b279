"""Every status a route answers, in its OpenAPI document: the refusals as `application/problem+json`.

Declared once here for every route, so a generated client types each error and schemathesis can
check that no route answers a status its document does not name.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from airside.problems import PROBLEM_MEDIA_TYPE, ProblemBody

# Any operation of the API: no or a bad token, a role or station refused, an unknown record, a
# business conflict, invalid input, the database away.
API_PROBLEMS = (401, 403, 404, 409, 422, 503)
# A body that is not JSON at all (FastAPI's own refusal, before any field is read).
BODY_NOT_JSON = 400
# Routes that read If-Match: a stale or malformed ETag, none sent.
PRECONDITION_PROBLEMS = (412, 428)
# What FastAPI documents for a route with parameters; we answer problem+json instead.
FASTAPI_VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "required": True, "schema": {"type": "string"}}}


def problem_schemas() -> dict[str, Any]:
    """ProblemBody and the models it refers to, as components."""
    schema = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ProblemBody": schema}


def documented_problem(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}},
    }
    if status == 503:
        response["headers"] = RETRY_AFTER
    return response


def add_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problems each operation may answer to its responses, and their schema to the components."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            statuses = [*API_PROBLEMS] if path.startswith("/v1/") else []
            if "requestBody" in operation:
                statuses.append(BODY_NOT_JSON)
            if any(param["in"] == "header" and param["name"] == "If-Match" for param in operation.get("parameters", ())):
                statuses += PRECONDITION_PROBLEMS
            responses = operation["responses"]
            for status in map(str, statuses):
                if status not in responses or responses[status] == FASTAPI_VALIDATION_ERROR:
                    responses[status] = documented_problem(int(status))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem_schemas())
    if FASTAPI_VALIDATION_ERROR["content"]["application/json"]["schema"]["$ref"] not in json.dumps(document["paths"]):
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
    return document


def document_responses(app: FastAPI) -> None:
    """Serve the app's OpenAPI document with every route's problems in it (idempotent on a cached document)."""
    build = app.openapi
    app.openapi = lambda: add_problems(build())  # type: ignore[method-assign]

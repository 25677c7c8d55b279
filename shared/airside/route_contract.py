"""What each route of an app raises and sends, read from its code once (for its document and /problems)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from airside.problem_scan import Raised, route_code
from airside.problem_types import ProblemType, registry

# What sends an ETag: the version of a record a PATCH changes, or the conditional-GET helper.
ETAG_SENDERS = frozenset({"airside.versioning.etag", "airside.versioning.set_etag"})
ETAG_MODULE = "airside.conditional."


def sends_etag(reached: frozenset[str]) -> bool:
    return any(name in ETAG_SENDERS or name.startswith(ETAG_MODULE) for name in reached)


@dataclass(frozen=True)
class Operation:
    service: str
    path: str
    method: str
    name: str
    tags: tuple[str, ...]
    problems: frozenset[Raised]
    sends_etag: bool


def operations(app: FastAPI) -> dict[tuple[str, str], Operation]:
    """Every operation of the app's document, with what its code raises and sends (read once per app)."""
    if (known := getattr(app.state, "operations", None)) is not None:
        return known
    service = app.state.service_name
    found = {}
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        code = route_code(context.endpoint, context.dependant, ("airside", service))
        for method in context.methods:
            found[(context.path_format, method.lower())] = Operation(
                service, context.path_format, method.lower(), context.name, tuple(context.tags), code.raised, sends_etag(code.reached)
            )
    app.state.operations = found
    return found


def problem_types(app: FastAPI) -> list[ProblemType]:
    """The app's problem-type registry: every problem its routes can answer."""
    return registry(problem for operation in operations(app).values() for problem in operation.problems)

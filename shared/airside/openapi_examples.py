"""The models' examples as they are written, nulls included.

FastAPI encodes its OpenAPI document with `exclude_none`, which also drops every `null` inside an
example, so an answer's example would lack its required nullable fields (`checked_out_at: null`)
and fail its own schema. They are put back from the models (`json_schema_extra={"examples": ...}`)
under the names FastAPI gave the schemas: the class name, or the module path and the class name
when two classes share a name."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel


def restore_examples(document: dict[str, Any], app: FastAPI) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name, examples in written_examples(app).items():
        if "examples" in schemas.get(name, {}):
            schemas[name]["examples"] = examples


def written_examples(app: FastAPI) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for model in models(app):
        extra = model.model_config.get("json_schema_extra")
        if isinstance(extra, dict) and isinstance(examples := extra.get("examples"), list):
            found[model.__name__] = examples
            found[f"{model.__module__.replace('.', '__')}__{model.__qualname__}"] = examples
    return found


def models(app: FastAPI) -> set[type[BaseModel]]:
    """Every model a route reads or answers, and the models within them."""
    seen: set[type[BaseModel]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
            seen.add(annotation)
            for field in annotation.model_fields.values():
                visit(field.annotation)
        for argument in get_args(annotation):
            visit(argument)

    for context in iter_route_contexts(app.routes):
        if isinstance(route := context.original_route, APIRoute):
            visit(route.response_model)
            for body in context.dependant.body_params:
                visit(body.field_info.annotation)
    return seen

"""RFC 9457 problem details for every error path: refusals, validation, unknown routes and crashes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from airside.logs import correlation_id_var

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("airside.problems")


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class ProblemBody(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    """A refusal the caller can act on; `slug` becomes the stable type URI `/problems/<slug>`."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.title = title or slug.replace("_", " ").capitalize()
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [error.model_dump() for error in self.errors]
        body.update(self.extra)
        return body


def not_found(what: str) -> Problem:
    return Problem(404, "not_found", f"{what} not found", title="Not found")


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail, title="Forbidden")


def conflict(slug: str, detail: str, **extra: Any) -> Problem:
    return Problem(409, slug, detail, extra=extra)


def invalid(field: str, message: str, type_: str = "value_error") -> Problem:
    """A 422 for a rule pydantic cannot express, shaped exactly like a validation error."""
    return Problem(
        422,
        "validation_error",
        f"{field}: {message}",
        title="Invalid request",
        errors=[FieldError(field=field, message=message, type=type_)],
    )


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers)


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        FieldError(field=_field_name(err.get("loc", ())), message=str(err.get("msg", "invalid")), type=str(err.get("type", "")))
        for err in exc.errors()
    ]
    named = ", ".join(sorted({error.field for error in errors}))
    return Problem(422, "validation_error", f"Invalid fields: {named}", title="Invalid request", errors=errors)


_SLUGS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
}


def _is_data_exception(exc: Exception) -> bool:
    """SQLSTATE class 22 ("data exception"), or a number too large for SQLite's integers."""
    if isinstance(exc, DataError | OverflowError):
        return True
    orig = getattr(exc, "orig", None)
    if isinstance(orig, OverflowError):  # a date or number beyond what the driver can encode
        return True
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str) and code.startswith("22"):
            return True
    return False


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_validation_problem(exc))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _SLUGS.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"))
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(Problem(exc.status_code, slug, detail, headers=getattr(exc, "headers", None)))

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        correlation_id = getattr(request.state, "correlation_id", None) or correlation_id_var.get()
        log.exception("unhandled error", exc_info=exc, extra={"correlation_id": correlation_id})
        detail = f"An unexpected error occurred; quote correlation id {correlation_id} to support"
        return problem_response(Problem(500, "internal_error", detail, title="Internal error"))

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the schema let through (a number beyond its column's range,
        # a NUL character PostgreSQL cannot store): the caller's data, not our failure.
        if not _is_data_exception(exc):
            return await on_crash(request, exc)
        log.warning("database refused a value", extra={"error": str(exc)[:300]})
        detail = "a value is out of range or malformed for its field"
        return problem_response(Problem(422, "validation_error", detail, title="Invalid request"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(StatementError, on_database_error)
    app.add_exception_handler(OverflowError, on_database_error)
    app.add_exception_handler(Exception, on_crash)


# OpenAPI: every route may answer these, documented once.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemBody, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": HTTPStatus(status).phrase}
    for status in (401, 403, 404, 409, 422)
}

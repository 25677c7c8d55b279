"""RFC 9457 problem details for every error path: refusals, validation, unknown routes and crashes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airside.db.outage import is_unavailable, sqlstate_of
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


# RFC 9457's members, and ours: what a problem's extension members must not be called.
STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "errors"})


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
        if shadowed := STANDARD_MEMBERS.intersection(self.extra):  # a `status: "new"` would hide the HTTP status
            raise ValueError(f"a problem's extra members cannot be named {sorted(shadowed)}")

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


# The errors a validation problem's detail spells out; `errors` holds them all.
DETAILED_ERRORS = 3


def _message(err: Any) -> str:
    # pydantic words a validator's ValueError as "Value error, <its text>": the text is the message.
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        FieldError(field=_field_name(err.get("loc", ())), message=_message(err), type=str(err.get("type", ""))) for err in exc.errors()
    ]
    # Each field with what is wrong with it, as `invalid` words one: a rule over the whole body (a model
    # validator, located at "body") is read from the detail too, not only from `errors`.
    detail = "; ".join(f"{error.field}: {error.message}" for error in errors[:DETAILED_ERRORS])
    if len(errors) > DETAILED_ERRORS:
        detail += f"; and {len(errors) - DETAILED_ERRORS} more (errors)"
    return Problem(422, "validation_error", detail, title="Invalid request", errors=errors)


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
    if isinstance(getattr(exc, "orig", None), OverflowError):  # a date or number beyond what the driver can encode
        return True
    code = sqlstate_of(exc)
    return code is not None and code.startswith("22")


# How long a caller waits before retrying while the database is away (the services reconnect
# within a second of its return).
RETRY_AFTER_SECONDS = 2


def unavailable() -> Problem:
    return Problem(
        503,
        "unavailable",
        "the database cannot be reached; retry shortly",
        title="Service unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class CrashGuard:
    """The last word on an exception no handler took: 503 while the database is away, else 500.

    Either way it is one log record with the correlation id (a crash with its traceback, an outage
    as the database's own "unavailable" line, once). Starlette's handler for `Exception` re-raises
    after answering, so the server logged every crash a second time; this guard does not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            db = getattr(scope["app"].state, "db", None)
            if db.unavailable(exc) if db is not None else is_unavailable(exc):
                problem = unavailable()
            else:
                correlation_id = correlation_id_var.get()
                log.error("unhandled error", exc_info=exc, extra={"correlation_id": correlation_id})
                detail = f"An unexpected error occurred; quote correlation id {correlation_id} to support"
                problem = Problem(500, "internal_error", detail, title="Internal error")
            if not started:  # else the answer is under way: the server closes the connection
                await problem_response(problem)(scope, receive, send)


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

    async def on_database_error(_request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value the schema let through (a number beyond its column's range,
        # a NUL character PostgreSQL cannot store): the caller's data, not our failure.
        if not _is_data_exception(exc):
            raise exc  # to the CrashGuard: an outage or a crash
        log.warning("database refused a value", extra={"error": str(exc)[:300]})
        detail = "a value is out of range or malformed for its field"
        return problem_response(Problem(422, "validation_error", detail, title="Invalid request"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(StatementError, on_database_error)
    app.add_exception_handler(asyncpg.PostgresError, on_database_error)  # the raw driver paths (`driver_connection`)
    app.add_exception_handler(OverflowError, on_database_error)
    app.add_middleware(CrashGuard)

"""Structured JSON logs carrying the correlation and trace ids from request to event to consumer."""

from __future__ import annotations

import logging
import re
import secrets
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)
# The id of the event being handled, so events a handler records name their cause.
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)


# An E.164 number, also percent-encoded as in a query string: personal data, kept out of every log
# line (bound parameters are hidden by the engine; this catches what an error message quotes).
_PHONE_NUMBER = re.compile(r"(?:\+|%2[Bb])\d{7,15}")


# A live feed's `?access_token=` (docs/feeds.md): a bearer token, never written to a log line.
_ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s\"']+")


def without_phone_numbers(text: str) -> str:
    return _PHONE_NUMBER.sub("+<phone>", text)


def without_secrets(text: str) -> str:
    return _ACCESS_TOKEN.sub(r"\1<redacted>", without_phone_numbers(text))


class _PrivateJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return without_secrets(super().format(record))


def new_trace_id() -> str:
    return secrets.token_hex(16)


def traceparent() -> str:
    """A W3C traceparent for the current trace with a fresh span id."""
    trace_id = trace_id_var.get() or new_trace_id()
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


def trace_id_from(traceparent_header: str | None) -> str | None:
    if not traceparent_header:
        return None
    parts = traceparent_header.split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return None


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id_var.get()
        record.trace_id = trace_id_var.get()
        record.causation_id = causation_id_var.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _PrivateJsonFormatter(
            "%(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s %(trace_id)s %(causation_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Access lines duplicate our request metrics and drown the business log; so would httpx's line per
    # webhook POST (a failed attempt is logged by the dispatcher, with its delivery).
    for name in ("uvicorn.access", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)

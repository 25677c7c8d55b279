"""Database outages: telling "cannot be reached now" from "refused the statement", and saying so once in the log."""

from __future__ import annotations

import logging
import time

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger("airside.db")


class DatabaseUnavailable(Exception):
    """The database cannot be reached: a request gets 503 with Retry-After, a loop tries again."""


# A server that is there but will not serve: connection exceptions (08), shutting down or starting
# up (57P01-57P03), no connection slot left (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE behind an error, through SQLAlchemy's wrapper and the driver adapter's."""
    orig = getattr(exc, "orig", None)
    for candidate in (exc, orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached now, rather than that it refused a statement."""
    if isinstance(exc, DatabaseUnavailable | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    chain = (exc, exc.__cause__, exc.__context__)
    if any(isinstance(cause, ConnectionError | asyncpg.ConnectionDoesNotExistError) for cause in chain):
        return True  # the raw driver paths (`driver_connection`) see the socket's own error
    if any(isinstance(cause, asyncpg.InterfaceError) and "connection is closed" in str(cause) for cause in chain):
        return True  # ... or, once the server has dropped the connection, asyncpg's refusal to use it (no subclass says so)
    code = sqlstate_of(exc)
    return code is not None and code.startswith(_UNAVAILABLE_SQLSTATES)


class Availability:
    """Whether the database answers; said once in the log when it stops and once when it is back."""

    def __init__(self) -> None:
        self.lost_at: float | None = None

    def lost(self, exc: BaseException) -> None:
        if self.lost_at is None:
            self.lost_at = time.monotonic()
            log.error("database unavailable", extra={"error": f"{exc.__class__.__name__}: {exc}"[:300]})

    def back(self) -> None:
        if self.lost_at is not None:
            log.warning("database back", extra={"outage_seconds": round(time.monotonic() - self.lost_at, 3)})
            self.lost_at = None

"""Every shape in which "the database cannot be reached" reaches our code, from the engine or the raw
driver: a route answers each with 503, a consumer retries each without ever parking the event."""

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from airside.db.outage import DatabaseUnavailable


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver says no")
        self.sqlstate = sqlstate


UNREACHABLE = {
    "refused at connect": lambda: DatabaseUnavailable("cannot connect: ConnectionRefusedError"),
    "connection lost mid-statement": lambda: DBAPIError("SELECT 1", {}, DriverError("08006"), connection_invalidated=True),
    "connection failure": lambda: DBAPIError("SELECT 1", {}, DriverError("08006")),
    "cannot connect now (starting up)": lambda: DBAPIError("SELECT 1", {}, DriverError("57P03")),
    "administrator shutdown": lambda: DBAPIError("SELECT 1", {}, DriverError("57P01")),
    "too many connections": lambda: DBAPIError("SELECT 1", {}, DriverError("53300")),
    "raw driver: socket reset": lambda: ConnectionResetError(104, "Connection reset by peer"),
    "raw driver: connection gone": lambda: asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    "raw driver: shutdown": lambda: asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    "pool exhausted": lambda: PoolTimeoutError("QueuePool limit reached"),
}

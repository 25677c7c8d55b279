"""Which errors mean "the database cannot be reached now" (logged once, a 503, a loop that waits) rather than
"it refused the statement": here the driver's own errors, as the raw driver paths meet them."""

import asyncpg
import pytest

from airside.db.outage import is_unavailable


def raised_while_handling(error: Exception, handling: Exception) -> Exception:
    """`error` as Python chains it when raised while `handling` was being handled (e.g. a transaction's exit)."""
    try:
        try:
            raise handling
        except type(handling):
            raise error  # noqa: B904 - the implicit chain is what is under test
    except type(error) as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("reset by peer"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),
        # the relay's transaction, its connection dropped by a stopped server mid-batch (seen in CI)
        raised_while_handling(
            asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed"),
            asyncpg.InterfaceError("connection is closed"),
        ),
    ],
    ids=["socket reset", "closed mid-operation", "closed", "transaction exit on a closed connection"],
)
def test_a_connection_the_server_dropped_is_the_database_away(error):
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        ValueError("a bug of ours"),
    ],
    ids=["a refused statement", "a misuse of the driver", "anything else"],
)
def test_a_refused_statement_or_a_bug_is_not(error):
    assert not is_unavailable(error)

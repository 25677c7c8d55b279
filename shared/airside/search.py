"""Substring search in SQL: what the caller typed matches literally, `%` and `_` included."""

from typing import Any

from sqlalchemy import ColumnElement

LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere: the wildcards `%` and `_`, and the escape character itself, escaped."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """`column` contains `text`, ignoring case. ILIKE on PostgreSQL, where a pg_trgm index can serve it."""
    return column.ilike(contains_pattern(text), escape=LIKE_ESCAPE)  # type: ignore[no-any-return]

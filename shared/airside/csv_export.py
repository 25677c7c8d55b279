"""CSV for the reports staff open in a spreadsheet: no cell of anyone's text is ever read as a formula.

Text starting with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's CSV injection list) gets
a leading single quote, which spreadsheets show as text, so a member who named themself
`=HYPERLINK(…)` is listed as written and nothing runs. Numbers stay numbers: a negative amount,
as an int or as a plain decimal string, is written as it is.
"""

import csv
import io
import math
import re
from collections.abc import Iterable
from typing import Any

from fastapi import Response

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def cell(value: Any) -> Any:
    """One value as a spreadsheet-safe cell: None is empty, finite numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, int | float) and math.isfinite(value):  # bool is an int: True/False, never a formula
        return value
    text = str(value)  # an infinite float too: "-inf" would be a formula
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    # RFC 4180's CRLF rows: the writer then quotes every cell holding a CR or LF. With "\n" alone a bare
    # CR inside a name went out unquoted and a reader started a new row there, at what followed it.
    csv.writer(out, lineterminator="\r\n").writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_attachment(rows: Iterable[Iterable[Any]], filename: str) -> Response:
    """A report as a CSV download, every cell through `cell`."""
    return Response(
        csv_text(rows), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )

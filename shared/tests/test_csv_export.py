"""The shared CSV writer: no text cell a spreadsheet would evaluate, whatever the text; numbers stay numbers."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from airside.csv_export import cell, csv_text
from airside_tools.testing.spreadsheets import TRIGGERS, formula_cells

# Text that starts with a trigger often, and anything at all.
texts = st.one_of(st.text(), st.tuples(st.sampled_from(TRIGGERS), st.text()).map("".join))


@given(rows=st.lists(st.lists(st.one_of(texts, st.integers(), st.none()), max_size=4), max_size=4))
def test_no_cell_of_any_document_is_a_formula_and_each_reads_back_as_written(rows):
    document = csv_text(rows)
    assert formula_cells(document) == []
    read = list(csv.reader(io.StringIO(document, newline="")))
    assert len(read) == len(rows)  # a CR or LF inside a cell never starts a row
    for written, back in zip(rows, read, strict=True):
        for value, text in zip(written, back, strict=True):
            expected = "" if value is None else str(value)
            assert text in (expected, "'" + expected)


def test_numbers_stay_numbers_and_non_numbers_that_look_like_them_do_not():
    assert [cell(value) for value in (-3, -1250, 0, "-3", "+7", "-2.50", True)] == [-3, -1250, 0, "-3", "+7", "-2.50", True]
    assert [cell(value) for value in ("-3+A1", "-1e5", "-", float("-inf"), "=1", "@x")] == ["'-3+A1", "'-1e5", "'-", "'-inf", "'=1", "'@x"]
    assert [cell(value) for value in (None, "王芳", "a=b")] == ["", "王芳", "a=b"]

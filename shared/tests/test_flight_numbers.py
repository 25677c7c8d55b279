"""The one flight-number rule (airside.flight_numbers), in Python and as the patterns pydantic enforces."""

import string
from datetime import UTC, date, datetime
from typing import Annotated

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from airside.events.flights import FlightStatusChanged
from airside.flight_numbers import CARRIER_PATTERN, FLIGHT_NO_PATTERN, NUMBER_PATTERN, split_flight_no

ASCII_DIGITS = string.digits
ASCII_CAPITALS = string.ascii_uppercase
# Digits of other scripts (Arabic-Indic, Devanagari, fullwidth, Bengali, Thai): \d would take every one.
FOREIGN_DIGITS = "٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３４５６７８９০১২৩৪৫৬৭৮৯๐๑๒๓๔๕๖๗๘๙"
NEAR_MISSES = ASCII_CAPITALS + ASCII_DIGITS + string.ascii_lowercase + FOREIGN_DIGITS + " \n\t-/ÄÉ"

flight_no_type = TypeAdapter(Annotated[str, Field(pattern=FLIGHT_NO_PATTERN)])
carrier_type = TypeAdapter(Annotated[str, Field(pattern=CARRIER_PATTERN)])
number_type = TypeAdapter(Annotated[str, Field(pattern=NUMBER_PATTERN)])

carriers = st.text(ASCII_CAPITALS + ASCII_DIGITS, min_size=2, max_size=2)
numbers = st.builds(
    lambda digits, suffix: digits + suffix, st.text(ASCII_DIGITS, min_size=1, max_size=4), st.sampled_from(["", *ASCII_CAPITALS])
)


def is_flight_no_by_hand(text: str) -> bool:
    """The spec's rule, written without a regular expression: the model the parser is checked against."""
    carrier, rest = text[:2], text[2:]
    if len(carrier) != 2 or any(char not in ASCII_CAPITALS + ASCII_DIGITS for char in carrier):
        return False
    digits = rest[:-1] if rest and rest[-1] in ASCII_CAPITALS else rest
    return 1 <= len(digits) <= 4 and all(char in ASCII_DIGITS for char in digits)


def accepted_by_pydantic(adapter: TypeAdapter[str], text: str) -> bool:
    try:
        adapter.validate_python(text)
    except ValidationError:
        return False
    return True


@given(carrier=carriers, number=numbers)
def test_every_carrier_number_and_suffix_round_trips(carrier, number):
    flight_no = carrier + number
    assert split_flight_no(flight_no) == (carrier, number)
    assert accepted_by_pydantic(flight_no_type, flight_no)
    assert accepted_by_pydantic(carrier_type, carrier) and accepted_by_pydantic(number_type, number)
    status = FlightStatusChanged(
        carrier=carrier, number=number, flight_date=date(2031, 5, 1), origin="PEK", destination="KMG", status="scheduled",
        updated_at=datetime(2031, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    assert status.flight_no == flight_no


def mutated(flight_no: str, position: int, char: str, how: str) -> str:
    position %= len(flight_no) + 1
    if how == "insert":
        return flight_no[:position] + char + flight_no[position:]
    if how == "replace":
        return flight_no[:position] + char + flight_no[position + 1 :]
    return flight_no[:position] + flight_no[position + 1 :]


near_misses = st.builds(
    mutated,
    st.builds(str.__add__, carriers, numbers),
    st.integers(0, 8),
    st.sampled_from(NEAR_MISSES),
    st.sampled_from(["insert", "replace", "delete"]),
)


@given(text=st.one_of(near_misses, st.text(NEAR_MISSES, max_size=9), st.text(max_size=12)))
@example("CA1831\n")  # Python's `$` matches before a final newline
@example("CA\u0661\u0668\u0663\u0661")  # Arabic-Indic 1831
@example("CA18310")
@example("CA1831AB")
@example("C1831")
@example("ca1831")
@example("3U\uff18\uff18\uff18\uff18")  # fullwidth 8888
def test_the_parser_and_the_patterns_take_exactly_the_flight_numbers_the_rule_allows(text):
    allowed = is_flight_no_by_hand(text)
    assert accepted_by_pydantic(flight_no_type, text) is allowed
    if allowed:
        assert "".join(split_flight_no(text)) == text
    else:
        with pytest.raises(ValueError, match="is not a flight number"):
            split_flight_no(text)


@given(carrier=carriers, number=numbers, foreign=st.sampled_from(FOREIGN_DIGITS), data=st.data())
def test_a_digit_of_another_script_is_refused_wherever_it_stands(carrier, number, foreign, data):
    flight_no = carrier + number
    position = data.draw(st.integers(0, len(flight_no) - 1))
    bad = flight_no[:position] + foreign + flight_no[position + 1 :]
    assert not accepted_by_pydantic(flight_no_type, bad)
    with pytest.raises(ValueError):
        split_flight_no(bad)
    bad_number = number.replace(number[0], foreign, 1)
    assert not accepted_by_pydantic(number_type, bad_number)  # the event's number field refuses it too
    with pytest.raises(ValidationError):
        FlightStatusChanged(
            carrier=carrier, number=bad_number, flight_date=date(2031, 5, 1), origin="PEK", destination="KMG", status="scheduled",
            updated_at=datetime(2031, 5, 1, tzinfo=UTC),
        )  # fmt: skip

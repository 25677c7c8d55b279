"""airside.types' IsoDate, IsoDateTime and EventDateTime: ISO 8601 text, never a number read as a unix timestamp.

Pydantic's lax mode read 3.6397411064845196e-82 (or "1700000000") as a time in 1970 and a midnight
date-time as a date; these types take only the text RFC 3339 writes. Over HTTP every route is
tested by tests/e2e/test_dates_and_times.py; here the types themselves, and event payloads.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from airside.events import flights
from airside.messaging.envelope import EnvelopeError, parse_envelope
from airside.types import EventDateTime, IsoDate, IsoDateTime

DATE, INSTANT, EVENT_INSTANT = TypeAdapter(IsoDate), TypeAdapter(IsoDateTime), TypeAdapter(EventDateTime)
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans())


@given(st.dates())
def test_a_date_as_iso_text_is_that_date(day: date):
    assert DATE.validate_python(day.isoformat()) == DATE.validate_json(f'"{day.isoformat()}"') == day


@given(st.datetimes(timezones=OFFSETS))
def test_an_instant_as_iso_text_is_that_instant(moment: datetime):
    for text in (moment.isoformat(), moment.astimezone(UTC).isoformat().replace("+00:00", "Z")):
        assert INSTANT.validate_python(text) == EVENT_INSTANT.validate_python(text) == moment


@given(NUMBERS | NUMBERS.map(str))
def test_a_number_is_no_date_and_no_instant(number: object):
    for adapter in (DATE, INSTANT, EVENT_INSTANT):
        with pytest.raises(ValidationError):
            adapter.validate_python(number)


@given(st.datetimes())
def test_a_bare_time_is_no_instant_for_a_caller(moment: datetime):
    with pytest.raises(ValidationError, match="timezone"):
        INSTANT.validate_python(moment.isoformat())
    with pytest.raises(ValidationError):
        DATE.validate_python(moment.isoformat())  # nor a date


@given(st.text(max_size=40))
def test_any_text_is_read_only_in_rfc_3339_form(text: str):
    """Whatever pydantic's own parser would make of it, only YYYY-MM-DD is a date."""
    try:
        day = DATE.validate_python(text)
    except ValidationError:
        return
    assert text == day.isoformat()


@pytest.mark.parametrize("text", ["2024-05-01T00:00:00Z", "20240501", "2024-5-1", "\uff12\uff10\uff12\uff14-05-01", "2024-02-30", ""])
def test_what_is_no_date(text: str):
    with pytest.raises(ValidationError):
        DATE.validate_python(text)


@pytest.mark.parametrize("text", ["2024-05-01", "2024-05-01T10:00", "2024-05-01 10:00:00Z", "20240501T100000Z", "1700000000", "today"])
def test_what_is_no_instant(text: str):
    for adapter in (INSTANT, EVENT_INSTANT):
        with pytest.raises(ValidationError):
            adapter.validate_python(text)


def test_objects_our_own_code_passes_go_through():
    moment = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
    assert DATE.validate_python(moment.date()) == moment.date()
    assert INSTANT.validate_python(moment) == EVENT_INSTANT.validate_python(moment) == moment


def _status(**changes: object) -> dict[str, object]:
    base = {"carrier": "CA", "number": "1831", "flight_date": "2026-11-22", "origin": "PEK", "destination": "KMG"}
    return {**base, "status": "delayed", "updated_at": "2026-11-22T08:30:00Z", **changes}


@pytest.mark.parametrize(
    "changes", [{"flight_date": 0}, {"flight_date": "3.6397411064845196e-82"}, {"updated_at": 1700000000}, {"etd": "1700000000"}]
)
def test_an_airline_system_sending_a_number_for_a_time_is_refused(changes: dict[str, object]):
    with pytest.raises(ValidationError):
        flights.FlightStatusChanged.model_validate(_status(**changes))


def test_a_bare_time_from_an_airline_system_stays_what_the_contract_allowed():
    """The flight status rule reads a bare updated_at as UTC (events.flights.checked_updated_at)."""
    assert flights.FlightStatusChanged.model_validate(_status(updated_at="2026-11-22T08:30:00")).updated_at.tzinfo is None


def test_an_envelope_whose_time_is_a_number_is_no_event():
    envelope = {"specversion": "1.0", "id": "e-1", "source": "airline", "type": flights.flight_status.type, "time": 1700000000, "data": {}}
    with pytest.raises(EnvelopeError):
        parse_envelope(orjson.dumps(envelope))

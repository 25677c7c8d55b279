"""The one rule every consumer of flight status applies before keeping a status (airside.events.flights)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airside import clock
from airside.events import flights as flight_events
from airside.messaging.envelope import EventRefused, parse_envelope

NOW = datetime(2031, 5, 1, 4, 0, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-10)), None]  # None: a bare time, taken as UTC


def status_event(updated_at: datetime) -> bytes:
    payload = flight_events.FlightStatusChanged(
        carrier="CA", number="1831", flight_date=date(2031, 5, 1), origin="PEK", destination="KMG", status="delayed", updated_at=updated_at
    )
    return flight_events.flight_status.build(payload, subject="CA1831/2031-05-01", source="airline/ops").to_json()


@given(
    ahead=st.timedeltas(min_value=-timedelta(days=400), max_value=timedelta(days=400)),
    zone=st.sampled_from(ZONES),
)
def test_a_status_is_refused_exactly_when_it_lies_more_than_a_day_ahead_of_the_receiver(ahead, zone):
    stamp = (NOW + ahead).astimezone(zone) if zone is not None else (NOW + ahead).replace(tzinfo=None)
    event = parse_envelope(status_event(stamp))  # as the consumer receives it: through JSON
    clock.override = NOW
    try:
        if ahead > flight_events.MAX_AHEAD:
            with pytest.raises(flight_events.StatusFromTheFuture, match="ahead of now") as refused:
                flight_events.received_status(event)
            assert isinstance(refused.value, EventRefused)  # parked at once by the inbox, never retried
        else:
            assert flight_events.received_status(event).updated_at == stamp
    finally:
        clock.override = None


def test_the_day_ahead_is_the_edge():
    clock.override = NOW
    try:
        assert flight_events.checked_updated_at(NOW + flight_events.MAX_AHEAD) == NOW + flight_events.MAX_AHEAD
        with pytest.raises(flight_events.StatusFromTheFuture):
            flight_events.checked_updated_at(NOW + flight_events.MAX_AHEAD + timedelta(microseconds=1))
    finally:
        clock.override = None

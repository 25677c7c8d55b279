"""Opening hours in station local time: a day lounge, one open across midnight, one open round the clock."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lounge_support import BEIJING, KMG, KMG_STAFF, a_flight, boarding_pass

from airside_tools.testing.harness import auth
from lounge.visits.rules import is_open

DAY = 24 * 3600
KMG_MANAGER = auth("station_manager", stations=["KMG"])


def seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def beijing(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2031, 3, 10, hour, minute, second, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("opens", "closes", "at", "expected"),
    [
        (time(0), time(0), beijing(23, 59, 30), True),  # the minute a 00:00-23:59 lounge refused everyone
        (time(0), time(0), beijing(0), True),
        (time(6), time(6), beijing(5, 59), True),  # equal times at any hour: round the clock
        (time(22), time(6), beijing(23), True),
        (time(22), time(6), beijing(0), True),
        (time(22), time(6), beijing(5, 59, 59), True),
        (time(22), time(6), beijing(6), False),
        (time(22), time(6), beijing(21, 59), False),
        (time(22), time(6), beijing(22), True),
        (time(6), time(23), beijing(22, 59, 59), True),
        (time(6), time(23), beijing(23), False),
        (time(6), time(23), beijing(5, 59), False),
    ],
)
def test_opening_hours_in_station_local_time(opens, closes, at, expected):
    assert is_open(opens, closes, at.astimezone(UTC), "Asia/Shanghai") is expected


times = st.times().map(lambda at: at.replace(microsecond=0))


@given(opens=times, closes=times, at=st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
def test_a_lounge_is_open_from_its_opening_time_for_as_long_as_its_hours_last(opens, closes, at):
    """Every pair of hours against the plain model: open for (closes - opens) mod 24 h after opening,
    the whole day when the two are equal."""
    local = at.astimezone(BEIJING).time()
    open_for = (seconds(closes) - seconds(opens)) % DAY or DAY
    since_opening = (seconds(local) - seconds(opens)) % DAY
    assert is_open(opens, closes, at, "Asia/Shanghai") is (since_opening < open_for)


async def set_hours(client, opens: str, closes: str) -> None:
    current = await client.get(f"/v1/lounges/{KMG}", headers=KMG_MANAGER)
    changed = await client.patch(
        f"/v1/lounges/{KMG}", json={"opens": opens, "closes": closes}, headers={**KMG_MANAGER, "If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text


async def walk_in(client, nats_url: str, frozen, at: datetime, name: str):
    frozen(at.astimezone(UTC))
    flight_no, flight_date = await a_flight(client, nats_url, at + timedelta(hours=1), origin="KMG", destination="PEK")
    body = {"boarding_pass": boarding_pass(name, flight_no, flight_date, origin="KMG", destination="PEK")}
    return await client.post(f"/v1/lounges/{KMG}/visits", json=body, headers=KMG_STAFF)


async def test_check_ins_follow_round_the_clock_and_overnight_hours(client, nats_server, frozen):
    night = date(2033, 5, 20)
    try:
        await set_hours(client, "00:00", "00:00")
        late = await walk_in(client, nats_server.url, frozen, datetime.combine(night, time(23, 59, 30), BEIJING), "LATE/OWL")
        assert late.status_code == 201, late.text
        midnight = await walk_in(client, nats_server.url, frozen, datetime.combine(night, time(0), BEIJING), "MIDNIGHT/OWL")
        assert midnight.status_code == 201, midnight.text

        await set_hours(client, "22:00", "06:00")
        small_hours = await walk_in(client, nats_server.url, frozen, datetime.combine(night, time(5, 30), BEIJING), "EARLY/BIRD")
        assert small_hours.status_code == 201, small_hours.text
        noon = await walk_in(client, nats_server.url, frozen, datetime.combine(night, time(12), BEIJING), "NOON/GUEST")
        assert noon.status_code == 409 and noon.json()["type"] == "/problems/closed", noon.text
    finally:
        await set_hours(client, "06:00", "23:00")

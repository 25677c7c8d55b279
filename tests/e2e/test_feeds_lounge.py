"""The reception board's live feed (docs/feeds.md), read over real HTTP from the lounge process of the suite's set.

The set runs with a resume window of 16 events (airside_tools.testing.harness), so a reset is reached in a few
check-ins. A client that does not read: tests/test_feed_limits.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from e2e_steps import KMG_LOUNGE, PEK_LOUNGE, Airside, Flight, Json, boarding_pass, letters, now, staff

from airside_tools.testing.feeds import FeedReader, Frame, about
from airside_tools.testing.harness import ServiceSet, auth, token

CHECKED_IN = "airside.lounge.visit.checked_in"
CHECKED_OUT = "airside.lounge.visit.checked_out"
WINDOW = 16  # AIRSIDE_FEED_WINDOW of the test set


@pytest.fixture(scope="module")
async def walk_in_flights(airside: Airside) -> dict[str, Flight]:
    """A flight out of each station the lounge knows, for walk-ins by boarding pass; both lounges open."""
    flights = {station: Flight.departing(now() + timedelta(hours=3), origin=station, destination="CTU") for station in ("PEK", "KMG")}
    for station, flight in flights.items():
        await airside.lounge.open_all_day(PEK_LOUNGE if station == "PEK" else KMG_LOUNGE, station)
        await airside.airline.publish(flight)
        await airside.flight_in_lounge(flight)
    return flights


class WalkIns:
    def __init__(self, airside: Airside, flights: dict[str, Flight]) -> None:
        self.airside, self.flights, self.count = airside, flights, 0

    async def check_in(self, station: str = "PEK") -> Json:
        self.count += 1
        lounge = PEK_LOUNGE if station == "PEK" else KMG_LOUNGE
        scanned = boarding_pass(f"FEED/{letters(self.count)}", self.flights[station])
        return (await self.airside.lounge.check_in(lounge, station, boarding_pass=scanned)).json()

    async def come_and_go(self) -> None:
        visit = await self.check_in()
        await self.airside.lounge.check_out(visit, "card")


@pytest.fixture
def walk_ins(airside: Airside, walk_in_flights: dict[str, Flight]) -> WalkIns:
    return WalkIns(airside, walk_in_flights)


def board(airside: Airside, lounge_id: str = PEK_LOUNGE) -> str:
    return f"{airside.lounge.url}/v1/lounges/{lounge_id}/board/stream"


def visits_in(frames: list[Frame]) -> list[tuple[str, str]]:
    return [(frame.event, frame.data["data"]["visit"]["id"]) for frame in frames]


async def test_a_check_in_appears_on_the_board_and_another_lounges_never(airside: Airside, walk_ins: WalkIns, services: ServiceSet):
    # The token in the query, as a browser's EventSource sends it; never in the service's log.
    query_token = token("lounge_staff", stations=["PEK"])
    url = f"{board(airside)}?access_token={query_token}"
    async with FeedReader(airside.http, url) as feed:
        visit = await walk_ins.check_in()
        frame = await feed.frame(about(CHECKED_IN, "visit", visit["id"]))
        assert frame.id is not None and int(frame.id) > feed.position()
        assert frame.data["type"] == CHECKED_IN and frame.data["data"]["visit"]["lounge_id"] == PEK_LOUNGE
        assert frame.data["feed"]["occupancy"]["occupied"] >= 1
        elsewhere = await walk_ins.check_in("KMG")
        await airside.lounge.check_out(visit, "card")
        gone = await feed.frame(about(CHECKED_OUT, "visit", visit["id"]))
        assert gone.data["feed"]["leaves"] is True
        # The stream is in order: Kunming's check-in came before the check-out, and was not shown.
        assert elsewhere["id"] not in {frame.data["data"]["visit"]["id"] for frame in feed.changes}
        assert all(frame.data["data"]["visit"]["lounge_id"] == PEK_LOUNGE for frame in feed.changes)
        await airside.lounge.check_out(elsewhere, "card")
    assert query_token not in services["lounge"].log_file.read_text()


async def test_the_board_feed_is_authorised_like_the_board(airside: Airside):
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        (auth("member", member_id="a-member", stations=[]), 403),  # a member never reads the board
        (staff("station_manager", "KMG"), 404),  # another station's lounge does not exist for them, as on the board
    ):
        async with FeedReader(airside.http, board(airside), headers) as feed:
            assert feed.status == status, (headers, feed.body)
            assert feed.body.startswith("{") and f'"status":{status}' in feed.body
    async with FeedReader(airside.http, board(airside), staff("station_manager", "PEK")) as feed:
        assert feed.status == 200
    # The query token is for the feeds alone: the board itself wants the header.
    plain = await airside.http.get(f"{airside.lounge.url}/v1/lounges/{PEK_LOUNGE}/board?access_token={token('lounge_staff')}")
    assert plain.status_code == 401


async def test_a_resume_gets_exactly_the_missed_frames_also_after_a_restart(airside: Airside, walk_ins: WalkIns, services: ServiceSet):
    desk = staff("lounge_staff")
    async with FeedReader(airside.http, board(airside), desk) as feed:
        first = await walk_ins.check_in()
        seen = await feed.frame(about(CHECKED_IN, "visit", first["id"]))
    missed = [await walk_ins.check_in(), await walk_ins.check_in()]
    async with FeedReader(airside.http, board(airside), {**desk, "Last-Event-ID": str(seen.id)}) as feed:
        assert feed.frames[0].id is None, "a resume's ready keeps the client's own id"
        await feed.frame(about(CHECKED_IN, "visit", missed[-1]["id"]))
        assert visits_in(feed.changes) == [(CHECKED_IN, visit["id"]) for visit in missed]
        last = feed.changes[-1]

    while_down = await walk_ins.check_in()
    services.restart("lounge")
    async with FeedReader(airside.http, board(airside), {**desk, "Last-Event-ID": str(last.id)}) as feed:
        await feed.frame(about(CHECKED_IN, "visit", while_down["id"]))
        live = await walk_ins.check_in()
        await feed.frame(about(CHECKED_IN, "visit", live["id"]))
        assert visits_in(feed.changes) == [(CHECKED_IN, while_down["id"]), (CHECKED_IN, live["id"])]
        assert [int(frame.id or 0) for frame in feed.changes] == sorted(int(frame.id or 0) for frame in feed.changes)
    for visit in (first, *missed, while_down, live):
        await airside.lounge.check_out(visit, "card")


async def test_an_id_older_than_the_window_resets(airside: Airside, walk_ins: WalkIns):
    desk = staff("lounge_staff")
    async with FeedReader(airside.http, board(airside), desk) as feed:
        position = feed.position()
    for _ in range(max(0, (WINDOW + 1 - position + 1) // 2)):
        await walk_ins.come_and_go()
    async with FeedReader(airside.http, board(airside), {**desk, "Last-Event-ID": "0"}) as feed:
        reset = await feed.frame(lambda frame: frame.event == "reset")
        assert reset.id == str(reset.data["position"]) and int(reset.id) > WINDOW
        assert all(int(frame.id or 0) > int(reset.id) for frame in feed.changes), "nothing is replayed after a reset: the client reloads"
    async with FeedReader(airside.http, board(airside), {**desk, "Last-Event-ID": "99999999"}) as feed:
        await feed.frame(lambda frame: frame.event == "reset")  # an id this stream never had
    async with FeedReader(airside.http, board(airside), {**desk, "Last-Event-ID": "tomorrow"}) as feed:
        assert feed.status == 422


async def test_the_stream_ends_when_the_token_expires(airside: Airside):
    headers = {"Authorization": f"Bearer {token('lounge_staff', ttl=2)}"}
    async with FeedReader(airside.http, board(airside), headers) as feed:
        await asyncio.wait_for(feed.closed.wait(), timeout=10)
        assert [frame.event for frame in feed.frames] == ["ready", "expired"]


async def test_the_board_feed_answers_a_bad_lounge_as_the_board(airside: Airside):
    response = await airside.http.get(board(airside, "NO-SUCH-LOUNGE"), headers=staff("lounge_staff"))
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json")

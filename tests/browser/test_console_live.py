"""The staff console, live, in headless Chromium against the services as processes (issue 14, docs/console.md).

Each page is signed in with a pasted token and loads its snapshot after the feed's `ready`; what a test
then changes through the API (or the SLA job fires) must reach the open page as a feed frame, without
a reload: the page counts its snapshots in <body data-snapshots>. Screenshots go to the artefacts directory.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from chromium_driver import missing
from e2e_steps import ADMIN, PEK_LOUNGE, Flight, boarding_pass, eventually, letters, local_date, now, parse
from sqlalchemy import text

from airside.db.database import Database
from airside_tools.testing.harness import token

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")

# The bound: a check-in through the API is on the open board within one second.
LIVE_SECONDS = 1.0


def console(services, name: str, query: str = "") -> str:
    return f"{services[name].url}/console/{query}"


async def departing_flight(airside, in_minutes: int) -> Flight:
    """A PEK flight lounge knows, leaving in `in_minutes`."""
    flight = Flight.departing(now() + timedelta(minutes=in_minutes))
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    return flight


async def agent_station(airside) -> tuple[str, dict[str, str]]:
    """A station of this test's own (no other ticket in its queue) that callcenter knows, and an agent there."""
    code = letters(uuid.uuid4().int % 26**3)
    await airside.booking.put_station(code, f"Console test {code}")
    await eventually(lambda: airside.callcenter.knows_station(code), f"callcenter knowing station {code}")
    _agent, headers = await airside.callcenter.new_agent(code)
    return code, headers


async def test_a_check_in_through_the_api_is_on_the_open_board_within_a_second(browser, console_services, airside, artefacts):
    await airside.lounge.open_all_day()
    later, soon = await departing_flight(airside, 150), await departing_flight(airside, 30)
    page = browser.open(console(console_services, "lounge", f"?lounge={PEK_LOUNGE}"))
    page.sign_in(token("lounge_staff"))
    occupied = int(page.text("#occupied"))

    visit = (await airside.lounge.check_in(boarding_pass=boarding_pass("LIVE/BOARD", later), guests=1)).json()
    seconds = page.wait(f"tr[data-visit='{visit['id']}']", timeout=LIVE_SECONDS)
    assert seconds <= LIVE_SECONDS
    page.wait(f"#occupied:text-is('{occupied + 2}')", timeout=LIVE_SECONDS)
    assert "LIVE/BOARD" in page.text(f"tr[data-visit='{visit['id']}']")

    # A guest whose boarding call time has come is highlighted, in words as well as colour.
    called = (await airside.lounge.check_in(boarding_pass=boarding_pass("CALL/NOW", soon))).json()
    page.wait(f"tr.boarding[data-visit='{called['id']}']", timeout=LIVE_SECONDS)
    assert "Boarding now" in page.text(f"tr[data-visit='{called['id']}']")
    assert page.attribute("body", "data-snapshots") == "1", "the board reloaded instead of applying the frames"

    # At the desk: a pass pasted (or scanned) is read back first, then the guest is checked in from the page.
    page.fill("#boarding-pass", boarding_pass("DESK/SCAN", later, seat="014C"))
    page.click("#read-pass")
    page.wait(f"#preview:has-text('{later.flight_no}')", timeout=5)
    assert "DESK/SCAN" in page.text("#preview") and "014C" in page.text("#preview")
    page.click("#check-in")
    page.wait("#message:has-text('DESK/SCAN')", timeout=5)
    page.wait("tr:has-text('DESK/SCAN')", timeout=LIVE_SECONDS)
    page.wait(f"#occupied:text-is('{occupied + 4}')", timeout=LIVE_SECONDS)
    page.screenshot(artefacts / "lounge-board.png")

    page.click("#lang-toggle")
    page.wait("h1:text-is('贵宾室前台看板')", timeout=2)
    page.screenshot(artefacts / "lounge-board-zh.png")
    page.close()


async def test_a_ticket_claimed_by_another_agent_leaves_the_queue(browser, console_services, airside, artefacts):
    station, other_agent = await agent_station(airside)
    tickets = [await airside.callcenter.open_ticket(station=station, type="inquiry", subject=f"Wheelchair at gate {n}") for n in (1, 2)]
    page = browser.open(console(console_services, "callcenter"))
    page.sign_in(token("agent", stations=[station]))
    for ticket in tickets:
        page.wait(f"tr[data-ticket='{ticket['id']}']")

    claimed = await airside.callcenter.claim(other_agent)
    assert claimed is not None and claimed["id"] in {ticket["id"] for ticket in tickets}
    page.wait(f"tr[data-ticket='{claimed['id']}']", state="detached", timeout=LIVE_SECONDS)
    left = next(ticket for ticket in tickets if ticket["id"] != claimed["id"])
    assert page.count(f"tr[data-ticket='{left['id']}']") == 1
    assert page.attribute("body", "data-snapshots") == "1"
    page.screenshot(artefacts / "agent-queue-after-claim.png")
    page.close()


async def test_an_sla_warning_turns_its_row_amber_and_the_breach_red(browser, console_services, airside, artefacts):
    station, _agent = await agent_station(airside)
    ticket = await airside.callcenter.open_ticket(station=station, type="complaint", subject="Escort did not meet us", priority="P2")
    page = browser.open(console(console_services, "callcenter"))
    page.sign_in(token("agent", stations=[station]))
    row = f"tr[data-ticket='{ticket['id']}']"
    assert page.attribute(row, "data-sla") == "ok"

    # The ticket's first-response minutes are used up as if time had passed: callcenter's own SLA job
    # then fires the warning (at 80%) and the breach (at 100%), and the feed brings them to the page.
    policy = (await airside.callcenter.call("GET", "/v1/sla-policies/P2", ADMIN)).json()
    database = Database(console_services["callcenter"].env["CALLCENTER_DATABASE_URL"], pool_size=1, max_overflow=0)
    try:
        await use_first_response_minutes(database, ticket["id"], policy["first_response_minutes"] * 0.85)
        page.wait(f"{row}.warning", timeout=5)
        assert "Warning" in page.text(row)
        page.screenshot(artefacts / "agent-queue-sla-warning.png")
        await use_first_response_minutes(database, ticket["id"], policy["first_response_minutes"] + 1, due_passed=True)
        page.wait(f"{row}.breached", timeout=5)
    finally:
        await database.dispose()
    assert "Breached" in page.text(row) and "\N{MINUS SIGN}" in page.text(f"{row} .countdown")  # overdue
    assert page.attribute("body", "data-snapshots") == "1"
    page.screenshot(artefacts / "agent-queue-sla-breached.png")
    page.close()


async def use_first_response_minutes(database: Database, ticket_id: str, minutes: float, *, due_passed: bool = False) -> None:
    """Bank `minutes` of the first-response clock and ask the SLA job to look now (the test's clock, not a sleep);
    with `due_passed`, the deadline is a second ago, as the clock would have put it."""
    moment = now() - timedelta(seconds=1)
    due = ", first_response_due = :now, next_due = :now" if due_passed else ""
    async with database.session() as session:
        await session.execute(
            text(f"UPDATE ticket SET first_response_elapsed = :minutes, sla_next_check_at = :now{due} WHERE id = :id"),
            {"minutes": minutes, "now": moment, "id": ticket_id},
        )
        await session.commit()


async def test_after_the_service_restarts_the_board_resumes_with_no_event_lost(browser, console_services, airside, artefacts):
    await airside.lounge.open_all_day()
    flight = await departing_flight(airside, 120)
    page = browser.open(console(console_services, "lounge", f"?lounge={PEK_LOUNGE}"))
    page.sign_in(token("lounge_staff"))
    first = (await airside.lounge.check_in(boarding_pass=boarding_pass("BEFORE/RESTART", flight))).json()
    page.wait(f"tr[data-visit='{first['id']}']", timeout=LIVE_SECONDS)
    position = page.attribute("body", "data-position")

    # The feed's connection drops with the service, and the page cannot reconnect until the check-ins
    # made after the restart are in: it must get them by resuming from its Last-Event-ID.
    page.do("block_streams")
    console_services.restart("lounge")
    await airside.lounge.open_all_day()
    missed = [(await airside.lounge.check_in(boarding_pass=boarding_pass(f"AFTER/RESTART{letters(n)}", flight))).json() for n in range(3)]
    page.do("unblock_streams")
    for visit in missed:
        page.wait(f"tr[data-visit='{visit['id']}']", timeout=15)
    assert page.attribute("body", "data-snapshots") == "1", "the board reloaded instead of resuming"
    # The browser's own reconnect, from the last frame it had before the restart.
    assert position in [stream["lastEventId"] for stream in page.do("streams")], (position, page.do("streams"))
    page.screenshot(artefacts / "lounge-board-after-restart.png")
    page.close()


async def test_the_dispatch_board_shows_orders_booked_and_confirmed_while_it_is_open(browser, console_services, airside, artefacts):
    member = await airside.booking.register_member("王芳")
    flight = Flight.departing(now() + timedelta(hours=5))
    first = await airside.booking.book(member, flight)
    day = local_date(parse(first["meet_at"])).isoformat()
    page = browser.open(console(console_services, "booking", f"?station=PEK&date={day}"))
    page.sign_in(token("concierge_lead"))
    page.wait(f"tr[data-order='{first['id']}'][data-status='requested']")

    await airside.booking.confirm(first)
    page.wait(f"tr[data-order='{first['id']}'][data-status='confirmed']", timeout=LIVE_SECONDS)
    second = await airside.booking.book(member, flight, products=("DEP_ESCORT",))
    page.wait(f"tr[data-order='{second['id']}'][data-status='requested']", timeout=LIVE_SECONDS)
    assert page.attribute("body", "data-snapshots") == "1"
    page.screenshot(artefacts / "dispatch-board.png")
    page.close()


async def test_a_token_that_expires_ends_the_feed_and_the_page_asks_for_another(browser, console_services, artefacts):
    page = browser.open(console(console_services, "lounge", f"?lounge={PEK_LOUNGE}"))
    page.sign_in(token("lounge_staff", ttl=3))
    page.wait("body[data-feed='expired']", timeout=10)
    assert "expired" in page.text("#token-status")
    page.screenshot(artefacts / "lounge-board-token-expired.png")
    page.close()

"""The eight journeys of the product (docs/testing.md), end to end: three service processes, a real NATS JetStream server,
real databases, driven only through HTTP (front ends) and NATS (an airline system).

Every journey is built relative to the real clock, so it passes at whatever hour it runs: flights
leave a few hours from now, the lounge is opened round the clock by its station manager first, and
times that depend on the hour (confirm_by, callbacks) are checked as properties, not fixed values.
"""

import csv
import io
from datetime import timedelta

from e2e_steps import (
    KMG_LOUNGE,
    PEK_LOUNGE,
    Airside,
    Flight,
    boarding_pass,
    events_about,
    eventually,
    local,
    local_date,
    member_token,
    now,
    parse,
    problem_type,
    staff,
    within_calling_hours,
)

AGENT = staff("agent")
TEAM_LEAD = staff("team_lead")
MANAGER = staff("station_manager")
LOUNGE_STAFF = staff("lounge_staff")


async def test_the_station_manager_opens_the_lounge_round_the_clock(airside: Airside):
    """What the lounge journeys rely on at night: the station manager changes the opening hours."""
    before = await airside.lounge.lounge(KMG_LOUNGE, "KMG")
    changed = await airside.lounge.change_lounge(KMG_LOUNGE, "KMG", opens="00:00", closes="00:00")
    assert (changed["opens"], changed["closes"], changed["version"]) == ("00:00", "00:00", before.json()["version"] + 1)
    assert (await airside.lounge.lounge(KMG_LOUNGE, "KMG")).json()["opens"] == "00:00"


async def test_journey_1_phone_booking_links_the_ticket_which_waits_and_resolves_on_confirmation(airside: Airside):
    member = await airside.member_known_everywhere("Wang Fang", tier="gold")
    # The member calls: the agent finds the caller by phone and opens a booking request.
    caller = await airside.callcenter.find_caller(member["phone"])
    assert caller is not None and caller["id"] == member["id"]
    ticket = await airside.callcenter.open_ticket(
        type="booking_request", subject="Departure escort and lounge, CA1831 to Kunming", member_id=member["id"]
    )
    assert (ticket["status"], ticket["priority"], ticket["order_id"]) == ("new", "P3", None)

    day = local_date(now()) + timedelta(days=3)
    ca1831 = Flight("CA", "1831", day, "PEK", "KMG", std=local(day, 10, 0))
    order = await airside.booking.book(member, ca1831, products=("DEP_ESCORT", "LOUNGE"), source_ticket_id=ticket["id"])
    assert (order["status"], order["source_ticket_id"], order["flight"]["flight_no"]) == ("requested", ticket["id"], "CA1831")
    assert parse(order["meet_at"]) == local(day, 8, 0)  # departure: std - 120 min
    assert parse(order["staff_report_at"]) == local(day, 7, 45)
    assert parse(order["confirm_by"]) == local(day - timedelta(days=1), 21, 0)  # 06:00 is outside calling hours: 21:00 the evening before
    assert order["price"]["amount_minor"] == await airside.booking.price(("DEP_ESCORT", "LOUNGE"), "gold")  # booked in time: no late fee

    async def linked_and_waiting() -> dict | None:
        held = await airside.callcenter.ticket(ticket["id"])
        return held if (held["order_id"], held["status"]) == (order["id"], "pending_customer") else None

    await eventually(linked_and_waiting, "the booking request linked to its order, waiting on the customer")

    confirmed = await airside.booking.confirm(order)
    assert confirmed["status"] == "confirmed"

    async def resolved() -> dict | None:
        held = await airside.callcenter.ticket(ticket["id"])
        return held if held["status"] == "resolved" else None

    await eventually(resolved, "the booking request resolved by the confirmation")
    assert [t["id"] for t in await airside.tickets_of(order)] == [ticket["id"]]  # no other ticket about this order
    expected = await airside.expected_in_lounge(order, version=confirmed["version"])
    assert (expected["order_status"], expected["flight_no"], expected["passengers"]) == ("confirmed", "CA1831", 1)


async def test_members_book_and_cancel_in_the_app_see_only_their_own_and_ask_the_call_center_on_the_web(airside: Airside):
    """The front ends' member side of journeys 1 and 5: the member's own token, the app and web channels."""
    member = await airside.member_known_everywhere("Han Mei", tier="gold")
    other = await airside.member_known_everywhere("Song Jie", tier="gold")
    own, theirs = member_token(member), member_token(other)
    flight = Flight.departing(now() + timedelta(days=3))  # more than 24 h ahead: cancelling costs nothing

    await airside.booking.book(member, flight, channel="call_center", by=own, expect=403)  # members book in the app or on the web
    await airside.booking.book(other, flight, channel="app", by=own, expect=403)  # and only for themselves
    order = await airside.booking.book(member, flight, channel="app", by=own)
    assert (order["status"], order["member_id"], order["price"]["amount_minor"]) == (
        "requested",
        member["id"],
        await airside.booking.price(["DEP_ESCORT", "LOUNGE"], "gold"),
    )
    listed = (await airside.booking.call("GET", "/v1/orders", own)).json()["items"]
    assert [mine["id"] for mine in listed] == [order["id"]]
    assert (await airside.booking.call("GET", "/v1/orders", theirs)).json()["items"] == []
    await airside.booking.call("GET", f"/v1/orders/{order['id']}", theirs, expect=404)
    assert (await airside.expected_in_lounge(order))["status"] == "expected"

    cancelled = await airside.booking.cancel(order, "plans changed", by=own)
    assert (cancelled["status"], cancelled["cancellation_fee"]["amount_minor"]) == ("cancelled", 0)

    async def dropped() -> bool:
        row = await airside.lounge.expected_visit(order["id"])
        return row is not None and row["status"] == "dropped"

    await eventually(dropped, "the lounge no longer expecting the cancelled order")

    ticket = await airside.callcenter.open_ticket(
        by=own, type="inquiry", channel="web", subject="Can I rebook for Friday?", station="PEK", order_id=order["id"]
    )
    assert (ticket["member_id"], ticket["channel"]) == (member["id"], "web")
    await airside.callcenter.call(
        "POST", f"/v1/tickets/{ticket['id']}/notes", own, json={"body": "Friday morning, please", "visibility": "public"}, expect=201
    )
    assert [mine["id"] for mine in (await airside.callcenter.call("GET", "/v1/tickets", own)).json()["items"]] == [ticket["id"]]
    assert (await airside.callcenter.call("GET", "/v1/tickets", theirs)).json()["items"] == []
    await airside.callcenter.call("GET", f"/v1/tickets/{ticket['id']}", theirs, expect=404)


async def test_journey_2_day_of_travel_unconfirmed_order_raises_an_urgent_ticket_then_a_concierge_meets_the_member(airside: Airside):
    member = await airside.member_known_everywhere("Zhao Lei", tier="platinum")
    flight = Flight.departing(now() + timedelta(hours=2, minutes=30))
    order = await airside.booking.book(member, flight, products=("DEP_ESCORT", "LOUNGE"))
    meet_at = parse(order["meet_at"])
    assert parse(order["staff_report_at"]) == meet_at - timedelta(minutes=15)  # she is there 15 minutes early
    assert parse(order["confirm_by"]) < now()  # within two hours of the meeting: overdue at once
    base = await airside.booking.price(("DEP_ESCORT", "LOUNGE"), "platinum")
    assert (order["price"]["amount_minor"], order["late_fee"]["amount_minor"]) == (base * 6 // 5, base // 5)  # staff booked late: +20%

    async def urgent_ticket() -> list[dict]:
        return await airside.tickets_of(order, type="outbound")

    overdue = await eventually(urgent_ticket, "the urgent outbound ticket for the unconfirmed order")
    assert [(t["priority"], t["origin"], t["status"]) for t in overdue] == [("P1", "confirmation_overdue", "new")]

    await airside.booking.confirm(order)

    async def chased_ticket_resolved() -> bool:
        return (await airside.callcenter.ticket(overdue[0]["id"]))["status"] == "resolved"

    await eventually(chased_ticket_resolved, "the overdue ticket resolved by the confirmation")

    concierge = await airside.on_duty_concierge(around=meet_at, name="礼宾 刘洋")
    kunming = await airside.on_duty_concierge(around=meet_at, station="KMG", name="礼宾 杨丽")
    assert concierge.id in [c["id"] for c in await airside.booking.candidates(order)]
    refused = await airside.booking.assign(order, kunming, expect=409)  # a concierge of another station
    assert problem_type(refused) == "concierge_unavailable"
    assigned = (await airside.booking.assign(order, concierge)).json()
    assert (assigned["status"], assigned["concierge"]["id"]) == ("assigned", concierge.id)
    schedule = await airside.booking.schedule(concierge, local_date(meet_at))
    assert [(a["order_id"], a["staff_report_at"]) for a in schedule["assignments"]] == [(order["id"], assigned["staff_report_at"])]

    other = await airside.on_duty_concierge(around=meet_at, name="礼宾 王强")
    await airside.booking.act(order, "start", None, other.headers, expect=403)  # only the assigned concierge meets the member
    started = await airside.booking.start(order, concierge)
    assert started["status"] == "in_service"
    actions = [entry["action"] for entry in await airside.booking.history(order["id"])]
    assert actions == ["created", "confirmed", "assigned", "started"]
    assert len(await airside.tickets_of(order, type="outbound")) == 1  # confirming did not raise another


async def test_journey_3_lounge_check_in_from_the_order_and_by_boarding_pass_drinks_boarding_call_and_settlement(airside: Airside):
    await airside.lounge.open_all_day()
    member = await airside.member_known_everywhere("Li Na", tier="gold")
    # The flight leaves in 35 minutes: the boarding call (40 minutes before) is due as soon as she sits down.
    flight = Flight.departing(now() + timedelta(minutes=35))
    meet_at = now() + timedelta(minutes=5)
    concierge = await airside.on_duty_concierge(around=meet_at)
    order = await airside.order_in_service(member, flight, concierge, passengers=["Li Na", "Zhou Min"], meet_at=meet_at)
    await airside.expected_in_lounge(order)
    before = (await airside.lounge.occupancy())["occupied"]

    visit = (await airside.lounge.check_in(order_id=order["id"])).json()
    assert (visit["entitlement"], visit["guests"], visit["member_id"], visit["order_id"]) == ("order", 1, member["id"], order["id"])
    assert parse(visit["boarding_call_at"]) == flight.std - timedelta(minutes=40)
    again = await airside.lounge.check_in(order_id=order["id"], expect=409)
    assert problem_type(again) == "already_checked_in"
    await airside.order_status(order, "in_lounge")

    bill = (await airside.lounge.sell(visit, ("TEA", 2), ("WINE", 1))).json()
    lines = {line["sku"]: line for line in bill["lines"]}
    assert (lines["TEA"]["amount_minor"], lines["TEA"]["complimentary"]) == (0, True)  # complimentary costs nothing
    assert (lines["WINE"]["amount_minor"], lines["WINE"]["complimentary"]) == (8800, False)  # the rest goes on the bill
    assert (bill["total_minor"], bill["complimentary_minor"]) == (8800, 2 * 2800)

    # Another guest walks in and reception scans the boarding pass: no member, so a paid day pass.
    other_flight = Flight.departing(now() + timedelta(hours=2))
    await airside.airline.publish(other_flight)
    await airside.flight_in_lounge(other_flight)
    walk_in = (await airside.lounge.check_in(boarding_pass=boarding_pass("ZHANG/WEI", other_flight))).json()
    assert (walk_in["entitlement"], walk_in["member_id"], walk_in["flight"]["flight_no"]) == ("paid", None, other_flight.flight_no)
    walk_in_bill = (await airside.lounge.sell(walk_in, ("COFFEE", 1))).json()
    assert walk_in_bill["total_minor"] == 30000 + 3200  # the day pass, and a paid guest pays for coffee too
    assert (await airside.lounge.occupancy())["occupied"] == before + 3

    called = await events_about(airside.nats_url, "airside.lounge.visit.boarding_call_due", visit["id"])
    assert called[0].data["visit"]["boarding_call_at"] == visit["boarding_call_at"]
    board = {row["visit_id"]: row for row in await airside.lounge.board()}
    assert board[visit["id"]]["boarding_call_sent"] is True and board[walk_in["id"]]["boarding_call_sent"] is False

    unpaid = await airside.lounge.call("POST", f"/v1/visits/{walk_in['id']}/checkout", LOUNGE_STAFF, expect=422)
    assert "payment_method" in unpaid.text
    settled = await airside.lounge.check_out(visit, "card")
    assert (settled["status"], settled["bill"]["status"], settled["bill"]["total_minor"]) == ("checked_out", "settled", 8800)
    settled_walk_in = await airside.lounge.check_out(walk_in, "card")
    assert (settled_walk_in["bill"]["status"], settled_walk_in["bill"]["total_minor"]) == ("settled", 33200)
    assert (await airside.lounge.occupancy())["occupied"] == before
    await airside.order_status(order, "in_service")  # back with the concierge, on to the gate
    for settled_visit, total in ((visit, 8800), (walk_in, 33200)):
        sale = await events_about(airside.nats_url, "airside.lounge.sale.completed", settled_visit["id"])
        assert (len(sale), sale[0].data["total_minor"], sale[0].data["payment_method"]) == (1, total, "card")


async def test_journey_4_completion_schedules_one_callback_in_calling_hours_and_a_low_score_opens_a_complaint(airside: Airside):
    member = await airside.member_known_everywhere("Sun Hui", tier="vip")
    flight = Flight.departing(now() + timedelta(hours=3))
    concierge = await airside.on_duty_concierge(around=flight.std - timedelta(hours=2), name="礼宾 陈晨")
    order = await airside.order_in_service(member, flight, concierge)

    completed = await airside.booking.complete(order, concierge, fees=(20000, "cash"))
    assert (completed["status"], completed["fees_collected"]["amount_minor"], completed["fees_collected"]["method"]) == (
        "completed",
        20000,
        "cash",
    )
    callback = await airside.the_one_callback(completed, timeout=5)  # within seconds
    assert (callback["purpose"], callback["status"], callback["order_ref"]) == ("service_followup", "pending", order["ref"])
    completed_at = parse(completed["updated_at"])
    due_at, due_by = parse(callback["due_at"]), parse(callback["due_by"])
    assert abs(due_by - (completed_at + timedelta(hours=72))) < timedelta(seconds=10)  # due within 72 hours
    assert completed_at - timedelta(seconds=10) <= due_at <= due_by
    assert within_calling_hours(due_at)  # never a call to a customer at rest
    assert (callback["concierge_name"], sorted(callback["products"])) == (concierge.name, ["DEP_ESCORT", "LOUNGE"])

    _agent, agent_headers = await airside.callcenter.new_agent("PEK")
    answered = await airside.callcenter.record_attempt(callback, agent_headers, outcome="reached", csat=2, comment="concierge was late")
    assert (answered["status"], answered["outcome"], answered["csat"]) == ("completed", "reached", 2)
    complaint = await airside.callcenter.ticket(answered["complaint_ticket_id"])
    assert (complaint["type"], complaint["priority"], complaint["order_id"], complaint["member_id"]) == (
        "complaint",
        "P2",
        order["id"],
        member["id"],
    )
    assert complaint["complaint_stage"] == "registered"
    assert [t["id"] for t in await airside.tickets_of(order, type="complaint")] == [complaint["id"]]
    assert len(await airside.callcenter.callbacks(order["id"])) == 1


async def test_journey_5_disruption_moves_the_meeting_and_the_boarding_call_and_a_cancellation_makes_cancelling_free(airside: Airside):
    await airside.lounge.open_all_day()
    member = await airside.member_known_everywhere("Huang Min", tier="gold")
    std = now() + timedelta(hours=2, minutes=15)
    ca1831 = Flight("CA", "1831", local_date(std), "PEK", "KMG", std=std)
    order = await airside.booking.book(member, ca1831, products=("DEP_ESCORT", "LOUNGE"))
    order = await airside.booking.confirm(order)
    await airside.expected_in_lounge(order, version=order["version"])
    visit = (await airside.lounge.check_in(order_id=order["id"])).json()  # she came early, before meeting her concierge
    assert parse(visit["boarding_call_at"]) == std - timedelta(minutes=40)

    # The airline announces CA1831 delayed 95 minutes.
    etd = std + timedelta(minutes=95)
    await airside.airline.publish(ca1831, "delayed", etd=etd, reason="air traffic control")

    async def moved() -> dict | None:
        held = await airside.booking.order(order["id"])
        return held if parse(held["meet_at"]) == parse(order["meet_at"]) + timedelta(minutes=95) else None

    rescheduled = await eventually(moved, "the meeting time moved by the delay")
    assert parse(rescheduled["staff_report_at"]) == parse(order["staff_report_at"]) + timedelta(minutes=95)
    assert "rescheduled" in [entry["action"] for entry in await airside.booking.history(order["id"])]

    async def call_moved() -> dict | None:
        held = await airside.lounge.visit(visit["id"])
        return held if parse(held["boarding_call_at"]) == etd - timedelta(minutes=40) else None

    await eventually(call_moved, "the lounge's boarding call moved")
    told = await events_about(airside.nats_url, "airside.lounge.visit.flight_changed", visit["id"])
    assert (told[0].data["delay_minutes"], parse(told[0].data["new_etd"])) == (95, etd)

    async def disruption_tickets() -> list[dict]:
        return [t for t in await airside.tickets_of(order, type="outbound") if t["origin"] == "disruption"]

    first = await eventually(disruption_tickets, "an outbound disruption ticket")
    assert [(t["priority"], t["status"]) for t in first] == [("P2", "new")]

    # Then the airline cancels the flight: the same ticket becomes P1, and cancelling the order is free.
    await airside.airline.publish(ca1831, "cancelled", etd=etd, reason="weather")

    async def raised() -> list[dict] | None:
        tickets = await disruption_tickets()
        return tickets if tickets and tickets[0]["priority"] == "P1" else None

    assert [t["id"] for t in await eventually(raised, "the disruption ticket raised to P1")] == [first[0]["id"]]
    await airside.order_status(order, "confirmed")
    assert (await airside.booking.order(order["id"]))["flight"]["status"] == "cancelled"
    assert parse(rescheduled["meet_at"]) - now() < timedelta(hours=2)  # without the cancellation it would cost 100%
    cancelled = await airside.booking.cancel(order, "flight cancelled; member rebooked on another airline")
    assert (cancelled["status"], cancelled["cancellation_fee"]["amount_minor"]) == ("cancelled", 0)
    assert cancelled["price"]["amount_minor"] > 0
    assert (await airside.lounge.check_out(visit))["status"] == "checked_out"  # nothing to pay
    assert len(await disruption_tickets()) == 1


async def test_journey_6_a_lounge_complaint_is_routed_approved_by_the_team_lead_and_closed_when_the_member_is_satisfied(
    airside: Airside,
):
    await airside.lounge.open_all_day()
    member = await airside.member_known_everywhere("Chen Jing", tier="gold")
    flight = Flight.departing(now() + timedelta(hours=2))
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    visit = (
        await airside.lounge.check_in(
            member_id=member["id"], flight={"carrier": flight.carrier, "number": flight.number, "flight_date": str(flight.flight_date)}
        )
    ).json()
    assert visit["entitlement"] == "tier"  # gold enters free

    complaint = await airside.callcenter.open_ticket(
        type="complaint",
        subject="休息室太吵 咖啡是凉的",
        description="Member complains about noise and cold coffee in the Beijing T3 lounge",
        member_id=member["id"],
        visit_id=visit["id"],
    )
    assert (complaint["priority"], complaint["complaint_stage"]) == ("P2", "registered")
    routed = await events_about(airside.nats_url, "airside.callcenter.complaint.routed", complaint["id"])
    assert {key: routed[0].data[key] for key in ("ticket_id", "station", "service", "visit_id")} == {
        "ticket_id": complaint["id"],
        "station": "PEK",
        "service": "lounge",
        "visit_id": visit["id"],
    }
    station_view = await airside.callcenter.tickets(type="complaint", station="PEK", member_id=member["id"])
    assert [t["id"] for t in station_view] == [complaint["id"]]

    investigating = await airside.callcenter.complaint_step(complaint, "investigate", AGENT)
    assert investigating["complaint_stage"] == "investigating"
    proposed = await airside.callcenter.complaint_step(
        complaint, "propose", AGENT, {"resolution": "Refund of the lounge day pass", "compensation_minor": 30000}
    )
    assert (proposed["complaint_stage"], proposed["approver_role"]) == ("awaiting_approval", "team_lead")
    await airside.callcenter.complaint_step(complaint, "approve", AGENT, expect=403)  # 300 CNY needs a team lead
    await airside.callcenter.complaint_step(complaint, "inform", AGENT, expect=409)  # not before it is approved
    approved = await airside.callcenter.complaint_step(complaint, "approve", TEAM_LEAD)
    assert approved["complaint_stage"] == "approved"
    informed = await airside.callcenter.complaint_step(complaint, "inform", AGENT)
    assert informed["complaint_stage"] == "customer_informed"
    closed = await airside.callcenter.complaint_step(complaint, "follow-up", AGENT, {"satisfied": True, "notes": "member satisfied"})
    assert (closed["complaint_stage"], closed["status"], closed["compensation_minor"]) == ("closed", "resolved", 30000)
    resolved = await events_about(airside.nats_url, "airside.callcenter.complaint.resolved", complaint["id"])
    assert resolved[0].data["compensation_minor"] == 30000
    await airside.lounge.check_out(visit)


async def test_journey_7_bar_sales_reach_the_reorder_point_the_requisition_is_approved_and_received_and_the_count_records_variance(
    airside: Airside,
):
    await airside.lounge.open_all_day()
    member = await airside.member_known_everywhere("Guo Tao", tier="gold")
    flight = Flight.departing(now() + timedelta(hours=2))
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    visit = (
        await airside.lounge.check_in(
            member_id=member["id"], flight={"carrier": flight.carrier, "number": flight.number, "flight_date": str(flight.flight_date)}
        )
    ).json()
    panda = (await airside.lounge.stock())["PANDA"]
    to_sell = panda["on_hand"] - panda["reorder_point"]
    assert to_sell > 0, panda

    too_many = await airside.lounge.sell(visit, ("NUTS", 1), ("PANDA", panda["on_hand"] + 1), expect=409)
    assert problem_type(too_many) == "out_of_stock" and too_many.json()["sku"] == "PANDA"
    bill = (await airside.lounge.sell(visit, ("PANDA", to_sell))).json()
    assert bill["total_minor"] == to_sell * 9900
    stock = await airside.lounge.stock()
    assert stock["PANDA"]["on_hand"] == panda["reorder_point"]

    drafts = await eventually(lambda: airside.lounge.requisitions(status="draft"), "a draft requisition")
    draft = drafts[0]
    assert {line["sku"]: line["qty"] for line in draft["lines"]}["PANDA"] == panda["reorder_qty"]
    low = await events_about(airside.nats_url, "airside.lounge.stock.low", f"{PEK_LOUNGE}/PANDA")
    assert (low[0].data["on_hand"], low[0].data["reorder_point"]) == (panda["reorder_point"], panda["reorder_point"])

    submitted = (await airside.lounge.requisition_step(draft, "submit", LOUNGE_STAFF)).json()
    assert submitted["status"] == "submitted"
    await airside.lounge.requisition_step(draft, "approve", LOUNGE_STAFF, expect=403)  # the station manager approves
    approved = (await airside.lounge.requisition_step(draft, "approve", MANAGER)).json()
    assert approved["status"] == "approved"
    received = (
        await airside.lounge.requisition_step(draft, "receive", LOUNGE_STAFF, {"lines": [{"sku": "PANDA", "qty": panda["reorder_qty"]}]})
    ).json()
    assert received["status"] == "received"
    restocked = panda["reorder_point"] + panda["reorder_qty"]
    assert (await airside.lounge.stock())["PANDA"]["on_hand"] == restocked

    # The evening count: one plush toy is missing.
    counted = await airside.lounge.count_stock(PEK_LOUNGE, "PEK", {"PANDA": restocked - 1, "NUTS": stock["NUTS"]["on_hand"]})
    variances = {line["sku"]: (line["expected"], line["counted"], line["variance"]) for line in counted["lines"]}
    assert variances == {"PANDA": (restocked, restocked - 1, -1), "NUTS": (stock["NUTS"]["on_hand"], stock["NUTS"]["on_hand"], 0)}
    assert (await airside.lounge.stock())["PANDA"]["on_hand"] == restocked - 1
    adjusted = await events_about(airside.nats_url, "airside.lounge.stock.adjusted", counted["id"])
    assert {line["sku"]: line["variance"] for line in adjusted[0].data["lines"]} == {"PANDA": -1, "NUTS": 0}
    assert len(await events_about(airside.nats_url, "airside.lounge.stock.low", f"{PEK_LOUNGE}/PANDA")) == 1  # once per crossing
    await airside.lounge.check_out(visit, "member_account")


async def test_journey_8_reports_show_the_day_service_list_sales_kpis_and_callback_summary(airside: Airside):
    # A station of this journey's own, so the service list and the call-center figures hold exactly its day.
    station = "CTU"
    await airside.booking.put_station(station, "Chengdu Tianfu")
    await eventually(lambda: airside.callcenter.knows_station(station), "the call center knowing CTU")
    meet_at = now() + timedelta(hours=1)
    day = local_date(meet_at)
    member = await airside.member_known_everywhere("Liu Yang", tier="gold")
    first = await airside.on_duty_concierge(around=meet_at, station=station, name="礼宾 周敏")
    second = await airside.on_duty_concierge(around=meet_at, station=station, name="礼宾 吴刚")
    lead = staff("concierge_lead", station)

    departure = await airside.booking.book(
        member, Flight.departing(meet_at + timedelta(hours=2), origin=station, destination="PEK"), products=("DEP_ESCORT",), meet_at=meet_at
    )
    arrival = await airside.booking.book(member, Flight.arriving(meet_at, destination=station), products=("ARR_MEET",), direction="arrival")
    dropped = await airside.booking.book(
        member, Flight.departing(meet_at + timedelta(hours=2), origin=station, destination="KMG"), products=("DEP_ESCORT",), meet_at=meet_at
    )
    for order, concierge, fees in ((departure, first, (5000, "cash")), (arrival, second, (8000, "card"))):
        await airside.booking.confirm(order, lead)
        await airside.booking.assign(order, concierge)
        await airside.booking.start(order, concierge)
        await airside.booking.complete(order, concierge, fees=fees)
    cancelled = await airside.booking.cancel(dropped, "member changed plans", lead)
    assert cancelled["cancellation_fee"]["amount_minor"] == cancelled["price"]["amount_minor"]  # under 2 h: 100%

    report = (await airside.booking.daily_services(station, day)).json()
    assert {line["ref"]: line["status"] for line in report["orders"]} == {
        departure["ref"]: "completed",
        arrival["ref"]: "completed",
        dropped["ref"]: "cancelled",
    }
    assert report["totals_by_status"] == {"completed": 2, "cancelled": 1}
    assert report["totals_by_product"] == {"DEP_ESCORT": 2, "ARR_MEET": 1}
    assert sorted((f["concierge_name"], f["method"], f["amount_minor"], f["orders"]) for f in report["fees_by_concierge"]) == sorted(
        [(first.name, "cash", 5000, 1), (second.name, "card", 8000, 1)]
    )
    assert report["fees_collected_minor"] == 13000
    by_ref = {line["ref"]: line for line in report["orders"]}
    assert by_ref[dropped["ref"]]["cancellation_fee_minor"] == cancelled["price"]["amount_minor"]
    as_csv = await airside.booking.daily_services(station, day, csv=True)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0][:4] == ["ref", "member_name", "card_no", "flight_no"]
    assert {row[0] for row in rows[1:4]} == {departure["ref"], arrival["ref"], dropped["ref"]}
    assert ["status", "completed", "2"] in rows and [first.name, "cash", "5000", "1"] in rows

    # The call center calls both members back: one happy, one not.
    _agent, agent_headers = await airside.callcenter.new_agent(station)
    for order, csat in ((departure, 5), (arrival, 2)):
        callback = await airside.the_one_callback(order)
        await airside.callcenter.record_attempt(callback, agent_headers, outcome="reached", csat=csat)
    window = (day - timedelta(days=1), day + timedelta(days=1))
    summary = await airside.callcenter.callback_summary(station, *window)
    assert (summary["made"], summary["reached"], summary["within_72h_pct"], summary["csat_avg"]) == (2, 2, 100.0, 3.5)
    assert summary["csat_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert {row["concierge"]: row["csat_avg"] for row in summary["per_concierge"]} == {first.name: 5.0, second.name: 2.0}
    assert {row["product"]: row["made"] for row in summary["per_product"]} == {"DEP_ESCORT": 1, "ARR_MEET": 1}
    kpis = (await airside.callcenter.kpis(station, *window))["total"]
    station_tickets = await airside.callcenter.tickets(at=station, station=station)
    assert kpis["tickets_created"] == len(station_tickets) >= 1  # at least the complaint the low score opened
    assert [t["type"] for t in station_tickets if t["order_id"] == arrival["id"] and t["type"] == "complaint"] == ["complaint"]
    assert (kpis["csat_avg"], kpis["callbacks_within_72h_pct"]) == (3.5, 100.0)

    # The lounge's daily sales list: a member's settled bill and a walk-in whose flight left with the bill unpaid.
    await airside.lounge.open_all_day()
    guest = await airside.member_known_everywhere("Ma Lin", tier="gold")
    flight = Flight.departing(now() + timedelta(hours=1))
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    visit = (
        await airside.lounge.check_in(
            member_id=guest["id"], flight={"carrier": flight.carrier, "number": flight.number, "flight_date": str(flight.flight_date)}
        )
    ).json()
    await airside.lounge.sell(visit, ("TEA", 1), ("BEER", 2))
    await airside.lounge.check_out(visit, "cash")
    walk_in = (await airside.lounge.check_in(boarding_pass=boarding_pass("QIAN/BO", flight))).json()
    walk_in_bill = (await airside.lounge.sell(walk_in, ("COLA", 1))).json()
    await airside.airline.publish(flight, "departed", atd=now())

    async def left_unpaid() -> dict | None:
        held = await airside.lounge.visit(walk_in["id"])
        return held if held["status"] == "checked_out" else None

    await eventually(left_unpaid, "the walk-in checked out when the flight departed")
    sales_day = local_date(parse(walk_in_bill["lines"][-1]["sold_at"]))
    sales = (await airside.lounge.daily_sales(PEK_LOUNGE, sales_day)).json()
    ours = {(line["visit_id"], line["sku"]): line for line in sales["lines"] if line["visit_id"] in (visit["id"], walk_in["id"])}
    assert {key: (line["amount_minor"], line["bill_status"], line["payment_method"]) for key, line in ours.items()} == {
        (visit["id"], "TEA"): (0, "settled", "cash"),
        (visit["id"], "BEER"): (9000, "settled", "cash"),
        (walk_in["id"], "DAY_PASS"): (30000, "unsettled", None),
        (walk_in["id"], "COLA"): (1500, "unsettled", None),
    }
    assert {bill["visit_id"]: bill["total_minor"] for bill in sales["unsettled_bills"]}[walk_in["id"]] == 31500
    assert sales["totals"]["by_payment_method"]["cash"] >= 9000 and sales["totals"]["complimentary_minor"] >= 2800
    sales_csv = await airside.lounge.daily_sales(PEK_LOUNGE, sales_day, csv=True)
    assert all(line["line_id"] in sales_csv.text for line in ours.values())
    assert KMG_LOUNGE not in sales_csv.text

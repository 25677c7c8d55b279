"""The carrier journeys (issue 15), end to end: an airline's contract made in booking reaches the lounge over
NATS; its business-class passenger enters carrier-paid with no membership and drinks on the contract, its
economy passenger is turned away; the month's statement in booking bills the one visit at the contract's
rate and lists the refusal; the carrier disputes the line, a credit answers it, the statement is issued and
settled. A rate change mid-month bills the visits before and after it at their own rates.

Each journey flies a carrier of its own (no other journey flies ZH or HO), so the statements hold only its
visits. Check-ins wait for the contract's copy by JetStream's ack floor of the lounge's booking consumer.
"""

from datetime import timedelta

from e2e_steps import (
    ADMIN,
    PEK_LOUNGE,
    Airside,
    Flight,
    Headers,
    Json,
    boarding_pass,
    contract_copied,
    events_about,
    eventually,
    local_date,
    now,
    problem_type,
    staff,
)

from airside_tools.testing.harness import auth

MANAGER = staff("station_manager")
BUSINESS_LOUNGE = {"cabins": ["F", "J", "C"], "rate_minor": 18000, "guests_allowed": 1, "complimentary_menu": True}


def carrier_token(designator: str) -> Headers:
    """What an airline's settlement system sends: the carrier role, scoped to its own designator."""
    return auth("carrier", stations=[], carrier=designator, sub=f"carrier-{designator.lower()}-e2e")


def this_month() -> str:
    return local_date(now()).strftime("%Y-%m")


async def a_contract_in_the_lounge(airside: Airside, designator: str, name: str) -> Json:
    """The admin registers the airline and its lounge contract at PEK; the lounge has its copy soon after."""
    await airside.booking.call("POST", "/v1/carriers", ADMIN, json={"designator": designator, "name": name}, expect=201)
    body = {
        "station": "PEK",
        "currency": "CNY",
        "valid_from": local_date(now()).replace(day=1).isoformat(),
        "settlement": {"frequency": "monthly", "payment_days": 30},
        "lounge": BUSINESS_LOUNGE,
    }
    contract = (await airside.booking.call("POST", f"/v1/carriers/{designator}/contracts", ADMIN, json=body, expect=201)).json()
    await contract_copied(airside, contract["id"], version=contract["version"])
    return contract


async def a_departure(airside: Airside, carrier: str) -> Flight:
    flight = Flight.departing(now() + timedelta(hours=2), carrier=carrier, destination="CTU")
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    return flight


async def the_statement(airside: Airside, designator: str, *, lines: int, refusals: int = 0) -> Json:
    """The carrier's statement at PEK this month, once booking holds `lines` lines and `refusals` refusals."""

    async def filled() -> Json | None:
        params = {"carrier": designator, "station": "PEK", "month": this_month()}
        listed = (await airside.booking.call("GET", "/v1/statements", MANAGER, params=params)).json()["items"]
        if len(listed) != 1:
            return None
        statement = (await airside.booking.call("GET", f"/v1/statements/{listed[0]['id']}", MANAGER)).json()
        return statement if (statement["line_count"], len(statement["refusals"])) == (lines, refusals) else None

    return await eventually(filled, f"{designator}'s statement with {lines} lines and {refusals} refusals")


async def test_a_carrier_pays_for_its_business_passenger_its_economy_passenger_is_refused_and_the_month_is_settled(airside: Airside):
    await airside.lounge.open_all_day()
    contract = await a_contract_in_the_lounge(airside, "ZH", "Shenzhen Airlines")
    flight = await a_departure(airside, "ZH")

    # Business class, no membership: in on the contract, a coffee on the contract, out with nothing to pay
    visit = (await airside.lounge.check_in(boarding_pass=boarding_pass("CHEN/JING", flight, cabin="J"))).json()
    assert (visit["entitlement"], visit["payer"], visit["member_id"], visit["passenger_name"]) == ("carrier", "carrier", None, "CHEN/JING")
    assert (visit["carrier"], visit["contract_id"], visit["contract_version"], visit["rate_minor"], visit["cabin"]) == (
        "ZH", contract["id"], 1, 18000, "J",
    )  # fmt: skip
    bill = (await airside.lounge.sell(visit, ("COFFEE", 1))).json()
    assert [(line["sku"], line["amount_minor"], line["complimentary"]) for line in bill["lines"]] == [("COFFEE", 0, True)]
    left = await airside.lounge.check_out(visit)
    assert (left["status"], left["bill"]["status"], left["bill"]["total_minor"]) == ("checked_out", "settled", 0)

    # Economy, no membership: turned away, and the refusal is on NATS for the carrier's statement
    refused = await airside.lounge.check_in(boarding_pass=boarding_pass("LIN/TAO", flight, cabin="Y"), expect=409)
    assert problem_type(refused) == "not_entitled"
    refusals = await airside.lounge.every(f"/v1/lounges/{PEK_LOUNGE}/refusals", MANAGER)
    (refusal,) = [row for row in refusals if row["flight_no"] == flight.flight_no]
    assert (refusal["carrier"], refusal["cabin"], refusal["passenger_name"]) == ("ZH", "Y", "LIN/TAO")
    assert refusal["contract_id"] == contract["id"]
    await events_about(airside.nats_url, "airside.lounge.entry.refused", refusal["id"])

    # The month's statement: the one visit at the contract's rate, and the refusal
    statement = await the_statement(airside, "ZH", lines=1, refusals=1)
    (line,) = statement["lines"]
    assert (line["service"], line["reference"], line["rate_minor"], line["amount_minor"], line["passenger_name"], line["cabin"]) == (
        "LOUNGE", visit["id"], 18000, 18000, "CHEN/JING", "J",
    )  # fmt: skip
    assert (line["contract_id"], line["contract_version"], line["flight_no"]) == (contract["id"], 1, flight.flight_no)
    assert [(row["passenger_name"], row["cabin"], row["reason"]) for row in statement["refusals"]] == [("LIN/TAO", "Y", "not_entitled")]
    assert (statement["status"], statement["total_minor"]) == ("draft", 18000)

    # The carrier sees only its own statements, disputes the line; the station manager credits half of it
    airline = carrier_token("ZH")
    assert [own["id"] for own in (await airside.booking.call("GET", "/v1/statements", airline)).json()["items"]] == [statement["id"]]
    other = (await airside.booking.call("GET", "/v1/statements", carrier_token("HO"))).json()["items"]
    assert statement["id"] not in [held["id"] for held in other]
    dispute_path = f"/v1/statements/{statement['id']}/lines/{line['id']}/dispute"
    disputed = (await airside.booking.call("POST", dispute_path, airline, json={"reason": "Passenger left early"}, expect=201)).json()
    assert (disputed["disputed"], disputed["amount_minor"]) == (True, 18000)  # the line stays as billed
    credit_body = {"line_id": line["id"], "amount_minor": 9000, "note": "Half agreed with ZH"}
    credit = (await airside.booking.call("POST", f"/v1/statements/{statement['id']}/credits", MANAGER, json=credit_body, expect=201)).json()
    assert (credit["service"], credit["amount_minor"], credit["credit_for"]) == ("CREDIT", -9000, line["id"])

    # Issued (before the month is out, on purpose), numbered and announced; paid in full it is settled
    issued = (await airside.booking.call("POST", f"/v1/statements/{statement['id']}/issue", MANAGER, json={"early": True})).json()
    assert (issued["status"], issued["total_minor"]) == ("issued", 9000) and issued["number"]
    (announced,) = await events_about(airside.nats_url, "airside.booking.settlement.statement_issued", statement["id"])
    assert (announced.data["number"], announced.data["total_minor"]) == (issued["number"], 9000)
    payment = {"amount_minor": 9000, "paid_on": local_date(now()).isoformat(), "reference": "ZH-REM-1"}
    paid = (await airside.booking.call("POST", f"/v1/statements/{statement['id']}/payments", MANAGER, json=payment, expect=201)).json()
    assert (paid["status"], paid["paid_minor"]) == ("settled", 9000)
    csv_text = (await airside.booking.call("GET", f"/v1/statements/{statement['id']}/lines.csv", airline)).text
    assert visit["id"] in csv_text and csv_text.count("\n") == 3  # the header, the visit and its credit


async def test_a_rate_change_mid_month_bills_each_visit_at_the_rate_in_force_at_its_check_in(airside: Airside):
    await airside.lounge.open_all_day()
    contract = await a_contract_in_the_lounge(airside, "HO", "Juneyao Air")
    flight = await a_departure(airside, "HO")

    before = (await airside.lounge.check_in(boarding_pass=boarding_pass("GU/RAN", flight, cabin="F"))).json()
    term = {"lounge": {**BUSINESS_LOUNGE, "rate_minor": 20000}}  # from now on
    changed = (await airside.booking.call("POST", f"/v1/contracts/{contract['id']}/terms", ADMIN, json=term, expect=201)).json()
    await contract_copied(airside, contract["id"], version=changed["version"])
    after = (await airside.lounge.check_in(boarding_pass=boarding_pass("XU/BO", flight, cabin="C"))).json()
    assert [(visit["contract_version"], visit["rate_minor"]) for visit in (before, after)] == [(1, 18000), (2, 20000)]
    for visit in (before, after):
        await airside.lounge.check_out(visit)

    statement = await the_statement(airside, "HO", lines=2)
    billed = {line["reference"]: (line["contract_version"], line["rate_minor"], line["amount_minor"]) for line in statement["lines"]}
    assert billed == {before["id"]: (1, 18000, 18000), after["id"]: (2, 20000, 20000)}
    assert statement["total_minor"] == 38000
    assert [(total["service"], total["quantity"], total["amount_minor"]) for total in statement["totals"]] == [("LOUNGE", 2, 38000)]

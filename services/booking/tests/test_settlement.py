"""Monthly statements (docs/carriers.md "Statements"): carrier-paid visits from lounge's events become lines once,
at the rate of their own term; refusals are listed; a dispute flags a line, a credit answers it with a negative
line; issue numbers and freezes; payments settle; the CSV streams every line."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from booking_support import ADMIN, AGENT, SHANGHAI
from carrier_support import (
    KMG_MANAGER,
    PEK_MANAGER,
    carrier_token,
    carrier_visit,
    month,
    new_carrier,
    new_contract,
    publish_refusal,
    publish_visit,
)

from airside import clock
from airside.events import lounge as lounge_events
from airside_tools.testing.events import published_events
from airside_tools.testing.harness import wait_for
from booking.settlement import service as settlement_service


async def statement_of(client, designator: str, *, lines: int, headers=PEK_MANAGER, sequence: int = 1) -> dict:
    """The carrier's statement once it holds `lines` lines (the consumer writes them as the events come)."""

    async def check():
        found = (await client.get("/v1/statements", params={"carrier": designator}, headers=headers)).json()["items"]
        mine = [summary for summary in found if summary["sequence"] == sequence]
        if not mine:
            return None
        full = (await client.get(f"/v1/statements/{mine[0]['id']}", headers=headers)).json()
        return full if full["line_count"] >= lines else None

    return await wait_for(check, timeout=10, what=f"{lines} lines on {designator}'s statement")


@pytest.fixture
async def carrier_month(client):
    designator = await new_carrier(client)
    contract = await new_contract(client, designator)
    return designator, contract


async def test_each_carrier_paid_visit_is_one_line_at_its_own_rate(client, nats_server, carrier_month):
    designator, contract = carrier_month
    now = datetime.now(UTC)
    first = carrier_visit_at(contract, now - timedelta(minutes=30), rate=18000)
    await publish_visit(nats_server.url, first)
    await publish_visit(nats_server.url, first)  # a replay
    await publish_visit(nats_server.url, first, lounge_events.visit_checked_out)  # a later event of the same visit
    second = carrier_visit_at(contract, now - timedelta(minutes=5), rate=20000, version=2, guests=1)
    await publish_visit(nats_server.url, second)
    member_visit = carrier_visit_at(contract, now, rate=1)
    member_visit.payer = "member"
    await publish_visit(nats_server.url, member_visit)
    statement = await statement_of(client, designator, lines=2)
    assert statement["status"] == "draft" and statement["month"] == month(now.astimezone(SHANGHAI).date())
    assert statement["currency"] == "CNY" and statement["line_count"] == 2
    by_visit = {line["reference"]: line for line in statement["lines"]}
    assert set(by_visit) == {first.id, second.id}
    assert by_visit[first.id]["rate_minor"] == 18000 and by_visit[first.id]["amount_minor"] == 18000
    assert by_visit[first.id]["contract_version"] == 1 and by_visit[first.id]["passenger_name"] == "ZHANG/WEI"
    assert by_visit[second.id]["quantity"] == 2 and by_visit[second.id]["amount_minor"] == 40000  # a guest within the allowance
    assert statement["totals"] == [{"service": "LOUNGE", "quantity": 3, "amount_minor": 58000}]
    assert statement["total_minor"] == 58000


def carrier_visit_at(contract, at, *, rate, version=1, guests=0):
    return carrier_visit(contract, at, rate_minor=rate, version=version, guests_paid=guests)


async def test_refusals_are_listed_on_the_month_statement(client, nats_server, carrier_month):
    designator, contract = carrier_month
    now = datetime.now(UTC)
    await publish_visit(nats_server.url, carrier_visit_at(contract, now, rate=18000))
    refusal_id = await publish_refusal(nats_server.url, contract, now, name="LI/NA")

    async def refused():
        statement = await statement_of(client, designator, lines=1)
        return statement if statement["refusals"] else None

    statement = await wait_for(refused, timeout=10, what="the refusal")
    (refusal,) = statement["refusals"]
    assert refusal["id"] == refusal_id and refusal["passenger_name"] == "LI/NA" and refusal["reason"] == "not_entitled"


async def test_dispute_credit_issue_and_payment(client, nats_server, carrier_month):
    designator, contract = carrier_month
    now = datetime.now(UTC)
    await publish_visit(nats_server.url, carrier_visit_at(contract, now - timedelta(minutes=2), rate=18000))
    await publish_visit(nats_server.url, carrier_visit_at(contract, now - timedelta(minutes=1), rate=18000))
    statement = await statement_of(client, designator, lines=2)
    base = f"/v1/statements/{statement['id']}"
    disputed, kept = statement["lines"]

    # The carrier disputes a line of its own statement; another carrier cannot even see it.
    assert (
        await client.post(f"{base}/lines/{disputed['id']}/dispute", json={"reason": "x"}, headers=carrier_token("Q1"))
    ).status_code == 404
    flagged = await client.post(
        f"{base}/lines/{disputed['id']}/dispute", json={"reason": "flew economy"}, headers=carrier_token(designator)
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["disputed"] is True and flagged.json()["amount_minor"] == 18000  # the line as billed
    again = await client.post(f"{base}/lines/{disputed['id']}/dispute", json={"reason": "again"}, headers=carrier_token(designator))
    assert again.status_code == 409

    # A credit answers only a disputed line, and at most what it billed.
    not_disputed = await client.post(f"{base}/credits", json={"line_id": kept["id"], "amount_minor": 1, "note": "n"}, headers=PEK_MANAGER)
    assert not_disputed.status_code == 409 and not_disputed.json()["type"].endswith("/not_disputed")
    too_much = await client.post(
        f"{base}/credits", json={"line_id": disputed["id"], "amount_minor": 18001, "note": "n"}, headers=PEK_MANAGER
    )
    assert too_much.status_code == 409 and too_much.json()["type"].endswith("/credit_exceeds_line")
    assert (
        await client.post(
            f"{base}/credits", json={"line_id": disputed["id"], "amount_minor": 1, "note": "n"}, headers=carrier_token(designator)
        )
    ).status_code == 403
    credit = await client.post(
        f"{base}/credits", json={"line_id": disputed["id"], "amount_minor": 18000, "note": "agreed: not covered"}, headers=PEK_MANAGER
    )
    assert credit.status_code == 201, credit.text
    assert (
        credit.json()["service"] == "CREDIT" and credit.json()["amount_minor"] == -18000 and credit.json()["credit_for"] == disputed["id"]
    )
    now_read = (await client.get(base, headers=carrier_token(designator))).json()
    assert now_read["total_minor"] == 18000 and now_read["line_count"] == 3
    assert [line["amount_minor"] for line in now_read["lines"]] == [18000, 18000, -18000]
    assert now_read["lines"][0]["disputed"] and now_read["lines"][0]["dispute_reason"] == "flew economy"

    # Issue: not before the month ends unless early, by a manager of the station; numbered and frozen.
    assert (await client.post(f"{base}/issue", json={}, headers=carrier_token(designator))).status_code == 403
    assert (await client.post(f"{base}/issue", json={"early": True}, headers=KMG_MANAGER)).status_code == 404
    not_yet = await client.post(f"{base}/issue", json={}, headers=PEK_MANAGER)
    assert not_yet.status_code == 409 and not_yet.json()["type"].endswith("/month_not_ended")
    issued = await client.post(f"{base}/issue", json={"early": True}, headers=PEK_MANAGER)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["status"] == "issued" and body["number"] == f"PEK-{designator}-{statement['month']}"
    assert body["totals"] == [
        {"service": "CREDIT", "quantity": 1, "amount_minor": -18000},
        {"service": "LOUNGE", "quantity": 2, "amount_minor": 36000},
    ]
    assert (await client.post(f"{base}/issue", json={"early": True}, headers=PEK_MANAGER)).status_code == 409
    events = await published_events(
        nats_server.url, "airside.booking.settlement.statement_issued", until=lambda seen: any(e.subject == statement["id"] for e in seen)
    )
    (event,) = [e.data for e in events if e.subject == statement["id"]]
    assert event["number"] == body["number"] and event["total_minor"] == 18000 and event["lines"] == 3

    # A visit of the month arriving after the issue goes on a supplementary statement; the issued one stays.
    late = carrier_visit_at(contract, now, rate=18000)
    await publish_visit(nats_server.url, late)
    supplementary = await statement_of(client, designator, lines=1, sequence=2)
    assert supplementary["status"] == "draft" and [line["reference"] for line in supplementary["lines"]] == [late.id]
    frozen = (await client.get(base, headers=PEK_MANAGER)).json()
    assert frozen["line_count"] == 3 and frozen["total_minor"] == 18000

    # Payments: never more than is outstanding; paid in full, settled.
    assert (
        await client.post(
            f"/v1/statements/{supplementary['id']}/payments", json={"amount_minor": 1, "paid_on": "2027-01-05"}, headers=PEK_MANAGER
        )
    ).status_code == 409
    over = await client.post(f"{base}/payments", json={"amount_minor": 18001, "paid_on": "2027-01-05"}, headers=PEK_MANAGER)
    assert over.status_code == 409 and over.json()["type"].endswith("/overpaid")
    part = await client.post(
        f"{base}/payments", json={"amount_minor": 8000, "paid_on": "2027-01-05", "reference": "R1"}, headers=PEK_MANAGER
    )
    assert part.status_code == 201 and part.json()["status"] == "issued" and part.json()["paid_minor"] == 8000
    rest = await client.post(f"{base}/payments", json={"amount_minor": 10000, "paid_on": "2027-01-06", "reference": "R2"}, headers=ADMIN)
    assert rest.status_code == 201 and rest.json()["status"] == "settled" and rest.json()["settled_at"]


async def test_a_credit_against_an_issued_statement_goes_on_the_supplementary_one(client, nats_server, carrier_month):
    designator, contract = carrier_month
    await publish_visit(nats_server.url, carrier_visit_at(contract, datetime.now(UTC), rate=18000))
    statement = await statement_of(client, designator, lines=1)
    base = f"/v1/statements/{statement['id']}"
    line = statement["lines"][0]
    assert (await client.post(f"{base}/issue", json={"early": True}, headers=ADMIN)).status_code == 200
    assert (
        await client.post(f"{base}/lines/{line['id']}/dispute", json={"reason": "no show"}, headers=carrier_token(designator))
    ).status_code == 201
    credit = await client.post(f"{base}/credits", json={"line_id": line["id"], "amount_minor": 5000, "note": "half"}, headers=PEK_MANAGER)
    assert credit.status_code == 201 and credit.json()["statement_id"] != statement["id"]
    assert (await client.get(base, headers=PEK_MANAGER)).json()["total_minor"] == 18000
    supplementary = await statement_of(client, designator, lines=1, sequence=2)
    assert supplementary["total_minor"] == -5000


async def test_who_reads_statements(client, nats_server, carrier_month):
    designator, contract = carrier_month
    await publish_visit(nats_server.url, carrier_visit_at(contract, datetime.now(UTC), rate=18000))
    statement = await statement_of(client, designator, lines=1)
    base = f"/v1/statements/{statement['id']}"
    assert (await client.get(base, headers=carrier_token(designator))).status_code == 200
    assert (await client.get(base, headers=carrier_token("Q2"))).status_code == 404
    assert (await client.get(base, headers=KMG_MANAGER)).status_code == 404
    assert (await client.get(base, headers=AGENT)).status_code == 403
    listed = (await client.get("/v1/statements", params={"carrier": designator}, headers=carrier_token("Q2"))).json()["items"]
    assert listed == []  # a carrier lists only its own, whatever it asks for
    assert (await client.get("/v1/statements", params={"carrier": designator}, headers=KMG_MANAGER)).json()["items"] == []
    assert (await client.get("/v1/statements", params={"month": "2026-13"}, headers=PEK_MANAGER)).status_code == 422


async def test_the_csv_lists_every_line_with_text_made_safe(client, nats_server, carrier_month, monkeypatch):
    monkeypatch.setattr(settlement_service, "CSV_BATCH", 2)  # three lines: read in two batches, the second after the first's last id
    designator, contract = carrier_month
    now = datetime.now(UTC)
    visits = [carrier_visit_at(contract, now - timedelta(seconds=index), rate=18000) for index in range(3)]
    visits[0].passenger_name = "=HYPERLINK(1)"
    for visit in visits:
        await publish_visit(nats_server.url, visit)
    statement = await statement_of(client, designator, lines=3)
    response = await client.get(f"/v1/statements/{statement['id']}/lines.csv", headers=carrier_token(designator))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["line_id", "day", "service"] and len(rows) == 4
    assert sorted(row[7] for row in rows[1:]) == sorted(visit.id for visit in visits)  # each line once
    names = {row[3] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in names and "ZHANG/WEI" in names
    assert (await client.get(f"/v1/statements/{statement['id']}/lines.csv", headers=carrier_token("Q3"))).status_code == 404


async def test_the_job_issues_the_drafts_of_months_ended_a_day_ago(client, nats_server, carrier_month, monkeypatch):
    designator, contract = carrier_month
    now = datetime.now(UTC)
    await publish_visit(nats_server.url, carrier_visit_at(contract, now, rate=18000))
    statement = await statement_of(client, designator, lines=1)
    local_now = now.astimezone(SHANGHAI)
    next_month = (local_now.replace(day=28) + timedelta(days=5)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(clock, "override", (next_month + timedelta(hours=12)).astimezone(UTC))  # ended, not a day ago
    ended = await client.post(f"/v1/statements/{statement['id']}/issue", json={}, headers=PEK_MANAGER)
    assert ended.status_code == 200 and ended.json()["status"] == "issued"  # a manager may issue once the month is over
    other = await new_carrier(client)
    other_contract = await new_contract(client, other)
    monkeypatch.setattr(clock, "override", None)
    await publish_visit(nats_server.url, carrier_visit_at(other_contract, now, rate=18000))
    draft = await statement_of(client, other, lines=1)
    monkeypatch.setattr(clock, "override", (next_month + timedelta(days=1, minutes=1)).astimezone(UTC))

    async def issued():
        read = (await client.get(f"/v1/statements/{draft['id']}", headers=PEK_MANAGER)).json()
        return read["status"] == "issued" and read

    read = await wait_for(issued, timeout=10, what="the job's issue")
    assert read["number"] == f"PEK-{other}-{draft['month']}"

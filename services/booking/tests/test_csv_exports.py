"""CSV formula injection: formula-like text in every user field that reaches a CSV of booking's, no formula cell out."""

import csv
import io
import random

import pytest
from booking_support import AGENT, LEAD, act, assigned_order, local, local_day
from carrier_support import PEK_MANAGER, completed_partner_order, new_carrier, new_contract

from airside_tools.testing.spreadsheets import FORMULAS, csv_routes, formula_cells


async def daily_services_with_formulas(client) -> tuple[str, list[str]]:
    """Members, card numbers and concierges named like formulas, each on a completed order with cash taken."""
    day = local_day(21)
    planted = []
    for formula in FORMULAS:
        card_no = f"-{random.randrange(10**8)}-1"  # the card pattern allows a leading minus: `-12345678-1` computes
        member = await client.post(
            "/v1/members", json={"name": formula, "phone": "+8613900139000", "tier": "gold", "card_no": card_no}, headers=AGENT
        )
        assert member.status_code == 201, member.text
        order, concierge = await assigned_order(client, concierge_name=formula, member=member.json(), std=local(day, 15))
        await act(client, order, "start")
        await act(client, order, "complete", {"fees_collected": {"amount_minor": 12_000, "method": "cash"}})
        planted += [member.json()["name"], card_no, concierge["name"]]
    response = await client.get(
        "/v1/reports/daily-services", params={"station": "PEK", "date": str(day)}, headers={**LEAD, "Accept": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text, planted


async def statement_lines_with_formulas(client) -> tuple[str, list[str]]:
    """Partner orders whose passengers are named like formulas, each a line of the carrier's month."""
    designator = await new_carrier(client)
    await new_contract(client, designator, assist=[{"product_code": "DEP_ESCORT", "rate_minor": 12_000}])
    statement, planted = None, []
    for formula in FORMULAS:
        order, statement = await completed_partner_order(client, designator, passenger=formula)
        planted.append(order["passengers"][0]["name"])  # as booking keeps it (blanks around a name are trimmed)
    assert statement is not None
    response = await client.get(f"/v1/statements/{statement['id']}/lines.csv", headers=PEK_MANAGER)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text, planted


# Every CSV route of booking, with what plants formula-like text in each user field that reaches it.
CSV_EXPORTS = {
    ("get", "/v1/reports/daily-services"): daily_services_with_formulas,
    ("get", "/v1/statements/{statement_id}/lines.csv"): statement_lines_with_formulas,
}


def test_every_csv_route_is_in_the_table(booking):
    assert csv_routes(booking.app) == set(CSV_EXPORTS)


@pytest.mark.parametrize("route", sorted(CSV_EXPORTS))
async def test_no_cell_of_a_csv_export_is_a_formula_and_the_text_is_kept(client, route):
    document, planted = await CSV_EXPORTS[route](client)
    assert formula_cells(document) == []
    cells = [value for row in csv.reader(io.StringIO(document, newline="")) for value in row]
    for text in planted:
        assert text in cells or "'" + text in cells  # shown as written (with the quote that makes it text)
    assert "12000" in cells  # amounts stay numbers

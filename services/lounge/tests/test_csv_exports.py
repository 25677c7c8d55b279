"""CSV formula injection: formula-like text in every user field that reaches a CSV of the lounge's, no formula cell out."""

import csv
import io
import random

import pytest
from lounge_support import ADMIN, BEIJING, PEK, PEK_MANAGER, PEK_STAFF, a_flight, a_member, a_morning

from airside_tools.testing.spreadsheets import FORMULAS, csv_routes, formula_cells


async def daily_sales_with_formulas(client, nats_url, frozen) -> tuple[str, list[str]]:
    """Menu items whose names and SKUs look like formulas (SKUs may start with a minus), sold and settled."""
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_url, now.replace(hour=now.hour + 2))
    member_id = await a_member(client, nats_url, tier="standard")
    flight = {"carrier": "CA", "number": flight_no[2:], "flight_date": str(flight_date)}
    visit = await client.post(f"/v1/lounges/{PEK}/visits", json={"member_id": member_id, "flight": flight}, headers=PEK_STAFF)
    assert visit.status_code == 201, visit.text
    planted, lines = [], []
    for formula in FORMULAS:
        sku = f"-{random.randrange(10**8)}-1"  # `-12345678-1` computes in a spreadsheet
        item = {"name": formula, "category": "snack", "price_minor": 500, "complimentary": False}
        assert (await client.put(f"/v1/menu/{sku}", json=item, headers=ADMIN)).status_code == 200
        planted += [formula, sku]
        lines.append({"sku": sku, "qty": 1})
    assert (await client.post(f"/v1/lounges/{PEK}/deliveries", json={"lines": lines}, headers=PEK_STAFF)).status_code == 201
    sold = await client.post(f"/v1/visits/{visit.json()['id']}/sales", json={"lines": lines}, headers=PEK_STAFF)
    assert sold.status_code in (200, 201), sold.text
    checkout = await client.post(f"/v1/visits/{visit.json()['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    assert checkout.status_code == 200, checkout.text
    params = {"lounge_id": PEK, "date": str(now.astimezone(BEIJING).date())}
    response = await client.get("/v1/reports/daily-sales", params=params, headers={**PEK_MANAGER, "Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text, planted


# Every CSV route of the lounge, with what plants formula-like text in each user field that reaches it.
CSV_EXPORTS = {("get", "/v1/reports/daily-sales"): daily_sales_with_formulas}


def test_every_csv_route_is_in_the_table(lounge):
    assert csv_routes(lounge.app) == set(CSV_EXPORTS)


@pytest.mark.parametrize("route", sorted(CSV_EXPORTS))
async def test_no_cell_of_a_csv_export_is_a_formula_and_the_text_is_kept(client, nats_server, frozen, route):
    document, planted = await CSV_EXPORTS[route](client, nats_server.url, frozen)
    assert formula_cells(document) == []
    cells = [value for row in csv.reader(io.StringIO(document, newline="")) for value in row]
    for text in planted:
        assert text in cells or "'" + text in cells  # shown as written (with the quote that makes it text)
    assert "500" in cells  # amounts stay numbers

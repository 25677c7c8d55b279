"""POST /v1/boarding-passes/decode: the reception tablet shows what it scanned before check-in, and
check-in reads real passes the same way."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lounge_support import BEIJING, PEK, PEK_STAFF, a_flight, a_morning

from airside.problems import PROBLEM_MEDIA_TYPE

DECODE = "/v1/boarding-passes/decode"
# The two-leg example of the IATA implementation guide.
IATA_TWO_LEGS = (
    "M2DESMARAIS/LUC       EABC123 YULFRAAC 0834 326J001A0025 14D>6181WW6225BAC 00141234560032A0141234567890 1AC AC 1234567890123"
    "    20KYLX58ZDEF456 FRAGVALH 3664 327C012C0002 12E2A0140987654321 1AC AC 1234567890123    2PCNWQ"
)


async def test_the_desk_sees_every_leg_with_its_inferred_date_and_frequent_flyer_items(client, frozen):
    frozen(datetime(2031, 11, 20, 9, 0, tzinfo=BEIJING).astimezone(UTC))
    response = await client.post(DECODE, json={"boarding_pass": IATA_TWO_LEGS}, headers=PEK_STAFF)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["passenger_name"], body["electronic_ticket"]) == ("DESMARAIS/LUC", True)
    assert body["legs"] == [
        {"pnr": "ABC123", "from": "YUL", "to": "FRA", "carrier": "AC", "number": "834", "flight_no": "AC834", "day_of_year": 326,
         "flight_date": "2031-11-22", "compartment": "J", "seat": "001A", "sequence": "0025", "passenger_status": "1",
         "frequent_flyer_airline": "AC", "frequent_flyer_number": "1234567890123"},
        {"pnr": "DEF456", "from": "FRA", "to": "GVA", "carrier": "LH", "number": "3664", "flight_no": "LH3664", "day_of_year": 327,
         "flight_date": "2031-11-23", "compartment": "C", "seat": "012C", "sequence": "0002", "passenger_status": "1",
         "frequent_flyer_airline": "AC", "frequent_flyer_number": "1234567890123"},
    ]  # fmt: skip


async def test_an_itinerary_document_shows_no_seat_and_a_malformed_pass_is_a_problem_naming_the_item(client, frozen):
    frozen(a_morning())
    itinerary = await client.post(
        DECODE, json={"boarding_pass": "M1Li/Wei              EXYZ789 PEKKMGCA 1831 120          000"}, headers=PEK_STAFF
    )
    assert itinerary.status_code == 200, itinerary.text
    (leg,) = itinerary.json()["legs"]
    assert (itinerary.json()["passenger_name"], leg["compartment"], leg["seat"], leg["sequence"]) == ("LI/WEI", None, None, None)
    bad = await client.post(
        DECODE, json={"boarding_pass": "M1LI/WEI              EXYZ789 PEKKMGCA 18310120F002A0012 100"}, headers=PEK_STAFF
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    (error,) = bad.json()["errors"]
    assert error["field"] == "body.boarding_pass" and error["message"].startswith("flight number"), error


def test_the_decode_route_documents_its_refusals_as_problems(lounge):
    responses = lounge.app.openapi()["paths"][DECODE]["post"]["responses"]
    for status in ("401", "403", "422"):
        assert PROBLEM_MEDIA_TYPE in responses[status]["content"], (status, responses[status])
    assert set(responses["200"]["content"]["application/json"]["schema"].values()) == {"#/components/schemas/ScannedBoardingPass"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    raw=st.text(min_size=1, max_size=120)
    | st.text(alphabet="M1 EABC0123456789/>^PEKKMGCA", min_size=23, max_size=90).map(lambda s: "M1" + s)
)
async def test_no_string_makes_the_decoder_answer_5xx(client, raw):
    response = await client.post(DECODE, json={"boarding_pass": raw}, headers=PEK_STAFF)
    assert response.status_code in (200, 422), (response.status_code, response.text)


async def test_real_shaped_passes_check_in(client, nats_server, frozen):
    """An Air Canada-style itinerary document (mixed case, no seat) checks in; an easyJet-style pass
    (ICAO carrier) is read and then refused for the flight it names, not for its shape."""
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    day = flight_date.timetuple().tm_yday
    itinerary = f"M1Zhao/Lei            EXYZ789 PEKKMG{flight_no[:2]} {flight_no[2:]:<5}{day:03d}          000"
    visit = await client.post(f"/v1/lounges/{PEK}/visits", json={"boarding_pass": itinerary}, headers=PEK_STAFF)
    assert visit.status_code == 201, visit.text
    assert (visit.json()["passenger_name"], visit.json()["flight"]["flight_no"]) == ("ZHAO/LEI", flight_no)
    easyjet = f"M1DOE/JOHN            EABCDEFGPEKLGWEZY8724 {day:<3d} 3C  506  100"
    refused = await client.post(f"/v1/lounges/{PEK}/visits", json={"boarding_pass": easyjet}, headers=PEK_STAFF)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/unknown_flight", refused.text
    assert "EZY8724" in refused.json()["detail"]

"""The IATA Resolution 792 boarding-pass parser, on real-format strings."""

from datetime import date

import pytest

from lounge.visits.bcbp import BcbpError, infer_date, parse

# The single-leg example of the IATA BCBP implementation guide (mandatory items only).
IATA_SINGLE = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 326J001A0025 100"
# The guide's two-leg example with conditional items and security data.
IATA_TWO_LEGS = (
    "M2DESMARAIS/LUC       EABC123 YULFRAAC 0834 326J001A0025 14D>6181WW6225BAC 00141234560032A0141234567890 1AC AC 1234567890123"
    "    20KYLX58Z"
    "DEF456 FRAGVALH 3664 327C012C0002 12E2A0140987654321 1AC AC 1234567890123    2PCNWQ"
    "^164GIWVC5EH7JNT684FVNJ91W2QA4DVN5J8K4F0L0GEQ3DF5TGBN8709HKT5D3DW3GBHFCVHMY7J5T6HFR41W2QA4DVN5J8K4F0L0GE"
)
CHINA = "M1LI/WEI              EXYZ789 PEKKMGCA 1831 120F002A0012 100"


def test_the_iata_single_leg_sample():
    boarding_pass = parse(IATA_SINGLE)
    assert boarding_pass.passenger_name == "DESMARAIS/LUC" and boarding_pass.surname == "DESMARAIS"
    assert boarding_pass.electronic_ticket is True
    (leg,) = boarding_pass.legs
    assert (leg.pnr, leg.origin, leg.destination, leg.flight_no, leg.day_of_year) == ("ABC123", "YUL", "FRA", "AC834", 326)
    assert (leg.compartment, leg.seat, leg.check_in_sequence, leg.passenger_status) == ("J", "001A", "0025", "1")


def test_the_iata_two_leg_sample_with_conditional_items_and_security_data():
    boarding_pass = parse(IATA_TWO_LEGS)
    first, second = boarding_pass.legs
    assert (first.origin, first.destination, first.flight_no) == ("YUL", "FRA", "AC834")
    assert (second.pnr, second.origin, second.destination, second.flight_no, second.day_of_year) == ("DEF456", "FRA", "GVA", "LH3664", 327)
    assert (second.seat, second.check_in_sequence) == ("012C", "0002")
    assert boarding_pass.leg_from("FRA") is second and boarding_pass.leg_from("PEK") is None


def test_a_five_digit_zero_padded_number_and_a_suffix_normalise():
    assert parse(CHINA).legs[0].flight_no == "CA1831"
    assert parse(CHINA.replace("CA 1831 ", "CA 01831")).legs[0].flight_no == "CA1831"
    assert parse(CHINA.replace("CA 1831 ", "MU 0583A")).legs[0].flight_no == "MU583A"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (CHINA[:-1], "variable field size"),
        (CHINA[:40], "flight number"),
        (CHINA[:10], "passenger name"),
        (CHINA + "X", "number of legs"),
        ("", "format code"),
        ("S" + CHINA[1:], "format code"),
        (CHINA[:1] + "0" + CHINA[2:], "number of legs"),
        (CHINA[:1] + "2" + CHINA[2:], "PNR"),
        (CHINA.replace("PEKKMG", "PE1KMG"), "from"),
        (CHINA.replace("CA 1831", "C  1831"), "operating carrier"),
        (CHINA.replace("1831 120", "18X1 120"), "flight number"),
        (CHINA.replace(" 120F", " 000F"), "date of flight"),
        (CHINA.replace(" 120F", " 367F"), "date of flight"),
        (CHINA.replace(" 120F", " 1A0F"), "date of flight"),
        (CHINA.replace("120F002A", "120f002A"), "compartment"),
        (CHINA.replace("F002A0012", "F2A2A0012"), "seat"),
        (CHINA.replace("0012 100", "00-2 100"), "check-in sequence"),
        (CHINA.replace("0012 100", "0012 1ZZ"), "variable field size"),
        (CHINA.replace("0012 100", "0012 105"), "variable field"),
        (CHINA.replace("LI/WEI ", "L1/WEI "), "passenger name"),
        (CHINA.replace("LI/WEI ", "LI/WEI/NA "), "passenger name"),
        (CHINA.replace("M1LI/WEI ", "M1       "), "passenger name"),
        (CHINA.replace("EXYZ789", "XXYZ789"), "electronic ticket indicator"),
        # Five digits not starting with 0: flight 1831 with a stray digit, or a number no airline has.
        (CHINA.replace("CA 1831 ", "CA 18310"), "flight number"),
        (CHINA.replace("CA 1831 ", "CA 00000"), "flight number"),
        (CHINA.replace("CA 1831 ", "CA  1831"), "flight number"),
        (CHINA.replace("CA 1831", "12 1831"), "operating carrier"),
        (CHINA.replace("CA 1831", " CA1831"), "operating carrier"),
        (CHINA.replace("CA 1831", "CA11831"), "operating carrier"),
        (CHINA.replace(" 120F", "    F"), "date of flight"),
        (CHINA.replace(" 120F", " 1 0F"), "date of flight"),
        (CHINA.replace(" 120F", " \u0661\u0662\u0660F"), "date of flight"),  # Arabic-Indic digits: not a day
        (CHINA.replace("0012 100", "\u0660012 100"), "check-in sequence"),
        (CHINA.replace("LI/WEI ", "LI/WEI\n"), "boarding_pass"),
        # Data after a sized variable field, or after a zero-size one on a pass of two legs: where the
        # conditional items end and the next leg starts cannot be told.
        (CHINA.replace("0012 100", "0012 103ABC") + ">60000", "number of legs"),
        ("M2" + CHINA[2:] + ">60000" + CHINA[23:], "PNR"),
    ],
)
def test_a_malformed_string_names_the_field(raw, field):
    with pytest.raises(BcbpError) as error:
        parse(raw)
    assert error.value.field == field, str(error.value)


def test_multi_leg_strings_take_each_leg_after_the_previous_variable_field():
    second_leg = "XYZ789 KMGCTUCA 4402 121Y030C0044 100"
    raw = "M2LI/WEI              E" + "XYZ789 PEKKMGCA 1831 120F002A0012 103ABC" + second_leg
    legs = parse(raw).legs
    assert [(leg.origin, leg.flight_no, leg.variable) for leg in legs] == [("PEK", "CA1831", "ABC"), ("KMG", "CA4402", "")]
    with pytest.raises(BcbpError) as error:
        parse(raw[:-3])
    assert (error.value.field, error.value.leg) == ("passenger status", 2)


@pytest.mark.parametrize(
    ("day", "today", "expected"),
    [
        (120, date(2031, 4, 30), date(2031, 4, 30)),
        (365, date(2031, 1, 1), date(2030, 12, 31)),  # read back just after New Year: last year's
        (1, date(2030, 12, 31), date(2031, 1, 1)),  # printed on New Year's Eve for the next day
        (300, date(2031, 2, 1), date(2030, 10, 27)),  # more than six months ahead: last year
        (366, date(2032, 12, 30), date(2032, 12, 31)),  # 2032 is a leap year
        (60, date(2032, 3, 1), date(2032, 2, 29)),
    ],
)
def test_the_year_is_inferred_from_today(day, today, expected):
    assert infer_date(day, today) == expected


def test_day_366_far_from_any_leap_year_is_refused():
    with pytest.raises(BcbpError) as error:
        infer_date(366, date(2030, 6, 30))
    assert error.value.field == "date of flight"

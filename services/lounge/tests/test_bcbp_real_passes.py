"""Boarding passes real issuers print, taken from the test suites of other BCBP parsers, their frequent-flyer
items, and properties over every well-formed pass (with and without conditional items) and every string.

Sources of the real passes (personal data redacted by their authors):
- martinmroz/iata_bcbp (MIT), tests/real_world.rs: the Alaska and Air Canada passes;
- the KItinerary fixtures as listed in nielstron/BCBPParser (MIT), IataBcbpTest.java: the Qatar,
  easyJet, Brussels Airlines and Lufthansa passes;
- jklausa/swift-bcbp (MIT), Tests/SwiftBCBPTests/SwiftBCBPTests.swift: the Wizz Air, Norwegian,
  Finnair, Avianca and Air France/KLM passes.
"""

import string
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airside_tools.testing import passes
from lounge.visits.bcbp import BcbpError, BoardingPass, Leg, parse

# (pass, passenger name, e-ticket, [(pnr, from, to, flight_no, day, compartment, seat, sequence, status)] per leg)
REAL_PASSES = [
    pytest.param(
        "M1MROZ/MARTIN         EXXXXXX SJCLAXAS 3317 207U001A0006 34D>218 VV8207BAS              2502771980993865 AS AS"
        " XXXXX55200000000Z29  00010",
        "MROZ/MARTIN", True, [("XXXXXX", "SJC", "LAX", "AS3317", 207, "U", "001A", "0006", "3")],
        id="alaska",
    ),
    # An itinerary document: mixed-case name, no compartment, seat or sequence yet.
    pytest.param(
        "M1Mroz/Martin         EXXXXXX YVRYOWAC 0344 211          072>20B0  8203IAC 250140000000000 0AC AC AC000000000     *20000AC 223"
        "                14080003068        0B          N",
        "MROZ/MARTIN", True, [("XXXXXX", "YVR", "YOW", "AC344", 211, None, None, None, "0")],
        id="air-canada",
    ),
    # The conditional items follow a variable field size of 00.
    pytest.param(
        "M1DOE/JANE            EXXX007 MXPDOHQR 0128 256Y042F0023 100>2180  0255BBR              2963456000789980"
        "                            0",
        "DOE/JANE", True, [("XXX007", "MXP", "DOH", "QR128", 256, "Y", "042F", "0023", "1")],
        id="qatar",
    ),
    # Not to the standard: the ICAO designator EZY, a day of year and a seat padded with blanks on the right.
    pytest.param(
        "M1DOE/JOHN            EABCDEFGMRSLGWEZY8724 99  3C  506  10Axxxxxxxxxx",
        "DOE/JOHN", True, [("ABCDEFG", "MRS", "LGW", "EZY8724", 99, None, "3C", "506", "1")],
        id="easyjet",
    ),
    pytest.param(
        "M1DOE/JOHN            EXXX007 TXLBRUSN 2588 034Y023D0999 35D>5181WM7034BSN              2A08200000000000 SN LH 123456789012345"
        "      *30600000K0902       ",
        "DOE/JOHN", True, [("XXX007", "TXL", "BRU", "SN2588", 34, "Y", "023D", "0999", "3")],
        id="brussels",
    ),
    pytest.param(
        "M1MUNDLER/NIELS       EX4TE6N ZRHHAMLX 1056 049Y030F0117 377>8320 W    BLX                                        2A72463496679170"
        " LX LH 992221992624215     Y*30600000K09  LHS    ",
        "MUNDLER/NIELS", True, [("X4TE6N", "ZRH", "HAM", "LX1056", 49, "Y", "030F", "0117", "3")],
        id="swiss-trailing-blanks",
    ),
    # No e-ticket indicator printed.
    pytest.param(
        "M1NOT/JOSH             PNR123 BUDSXFW6 2315 197Y012A0011 130>5002A                                         N",
        "NOT/JOSH", False, [("PNR123", "BUD", "SXF", "W62315", 197, "Y", "012A", "0011", "1")],
        id="wizz",
    ),
    pytest.param(
        "M1NOT/JOSH             123PNR SXFOSLDY 1105 166Y027F0008 114>30000328-1234567890",
        "NOT/JOSH", False, [("123PNR", "SXF", "OSL", "DY1105", 166, "Y", "027F", "0008", "1")],
        id="norwegian",
    ),
    pytest.param(
        "M1KLAUSA/JAN          EWHYAYE HELBERAY 1435 345Y025A0021 34A>5180 W    BAY 0            2A1059991113332  AY BA 12345678"
        "            Y2Y",
        "KLAUSA/JAN", True, [("WHYAYE", "HEL", "BER", "AY1435", 345, "Y", "025A", "0021", "3")],
        id="finnair",
    ),
    pytest.param(
        "M1KLAUSA/JAN          EPNRLOL LAXBOGAV 0089 165C001A0002 35E>5180 M    BAV              2A13412345678900 AV LH 112233445566778"
        "     Y*30600000K09  LHS    F^460MEUCIQDJ7OXFa3N0Ng9zqVS7oKZLgiFPl/oxz6agwHjXe7hboQIgEv6vwIxfNHhG2ranP3tk8/2qdbTHFJS/5tfrgQzH3Bg=",
        "KLAUSA/JAN", True, [("PNRLOL", "LAX", "BOG", "AV89", 165, "C", "001A", "0002", "3")],
        id="avianca-with-security-data",
    ),
    pytest.param(
        "M2PHLIPS/AAAAAA       EAAAAAA ZYRCDGAF 7186 092Y013A0020 348>5180      B1A              2A13123004911111"
        "                           NAAAAAA CDGHNDJL 0046 092Y050K0039 32C2A1312300491111                            N",
        "PHLIPS/AAAAAA", True,
        [("AAAAAA", "ZYR", "CDG", "AF7186", 92, "Y", "013A", "0020", "3"), ("AAAAAA", "CDG", "HND", "JL46", 92, "Y", "050K", "0039", "3")],
        id="air-france-japan-airlines",
    ),
]  # fmt: skip

# Real passes that cannot be read one way only: refused, naming the item.
AMBIGUOUS_PASSES = [
    # LATAM (swift-bcbp): the variable field says 0x3D characters, 11 fewer follow.
    pytest.param(
        "M1KLAUSA/JAN          EPNRRNP BOGSCLLA 0575 167Y013A0069 13D>10B0MM9167BLA 29 1045LA 99999999            111",
        "variable field",
        id="latam-short-field",
    ),
    # Truncated in the mandatory items (KItinerary fixtures).
    pytest.param("M1DOE/JOHN            EXXX007 TXLBRUSN 2592 110Y", "seat", id="truncated-after-compartment"),
    pytest.param("M1DOE/JOHN            EXXX007 TXLBRUSN 2592 110", "compartment", id="truncated-after-date"),
]


@pytest.mark.parametrize(("raw", "name", "ticket", "legs"), REAL_PASSES)
def test_real_boarding_passes_are_read(raw, name, ticket, legs):
    boarding_pass = parse(raw)
    assert (boarding_pass.passenger_name, boarding_pass.electronic_ticket) == (name, ticket)
    read = [
        (
            leg.pnr,
            leg.origin,
            leg.destination,
            leg.flight_no,
            leg.day_of_year,
            leg.compartment,
            leg.seat,
            leg.check_in_sequence,
            leg.passenger_status,
        )
        for leg in boarding_pass.legs
    ]
    assert read == legs


def test_the_qatar_conditional_items_belong_to_its_leg():
    (leg,) = parse(REAL_PASSES[2].values[0]).legs
    assert leg.variable.startswith(">2180") and leg.variable.endswith("0")


# Conditional items that stop early, as real issuers print them (jklausa/swift-bcbp's samples, redacted there).
AIR_FRANCE_TWO_LEGS = (
    "M2GUY/SOME            EABC123 LAXCDGAF 4097 356J070A0174 347>2180      B                29             0"
    "                           ABC123 CDGTLSAF 7794 357Y006A0006 32B29             0    AF 1112223334/P        "
)
SAS_THROUGH_FREQUENT_FLYER = (
    "M1DOE/JOHN            EXXX007 ARNCPHSK 1403 120C004C0011 343>50B1WM7308BSK 2511733333333330 SK TK 555555555       N*3000500TKG1"
)
KLM_STOPS_AFTER_THE_SELECTEE = "M1DOE/JOHN            EXXX007 AMSLHRKL 1007 120Y023A0042 11F>60B        KL 0E05799999999990"


@pytest.mark.parametrize(
    ("raw", "frequent_flyers"),
    [
        pytest.param(REAL_PASSES[0].values[0], [("AS", "XXXXX55200000000")], id="alaska"),
        pytest.param(REAL_PASSES[1].values[0], [("AC", "AC000000000")], id="air-canada-stops-after-the-number"),
        pytest.param(REAL_PASSES[2].values[0], [(None, None)], id="qatar-after-size-00"),
        pytest.param(REAL_PASSES[3].values[0], [(None, None)], id="easyjet-no-conditional-items"),
        pytest.param(REAL_PASSES[4].values[0], [("LH", "123456789012345")], id="brussels-partner-programme"),
        pytest.param(REAL_PASSES[6].values[0], [(None, None)], id="wizz-blank"),
        pytest.param(REAL_PASSES[7].values[0], [(None, None)], id="norwegian-empty-sections"),
        pytest.param(REAL_PASSES[9].values[0], [("LH", "112233445566778")], id="avianca-with-security-data"),
        pytest.param(REAL_PASSES[10].values[0], [(None, None), (None, None)], id="air-france-japan-airlines"),
        pytest.param(AIR_FRANCE_TWO_LEGS, [(None, None), ("AF", "1112223334/P")], id="air-france-second-leg-only"),
        pytest.param(SAS_THROUGH_FREQUENT_FLYER, [("TK", "555555555")], id="sas-airline-data-after-the-number"),
        pytest.param(KLM_STOPS_AFTER_THE_SELECTEE, [(None, None)], id="klm-stops-before-the-frequent-flyer"),
    ],
)
def test_each_leg_carries_its_own_frequent_flyer_items(raw, frequent_flyers):
    legs = parse(raw).legs
    assert [(leg.frequent_flyer_airline, leg.frequent_flyer_number) for leg in legs] == frequent_flyers


def _single(variable: str) -> str:
    """A single-leg pass whose leg's variable field is `variable`, its size given right."""
    return f"M1LI/WEI              EXYZ789 PEKKMGCA 1831 120F002A0012 1{len(variable):02X}{variable}"


def _with_repeated(items: str) -> str:
    """A single-leg pass whose first leg carries `items` as its repeated conditional items (sized)."""
    return _single(f">6{len(passes.UNIQUE_ITEMS):02X}{passes.UNIQUE_ITEMS}{len(items):02X}{items}")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        # The repeated items stop inside the frequent-flyer number: the number printed, or a longer one cut?
        pytest.param(_with_repeated("9991234567890 0   CA 1234567"), "frequent flyer number", id="number-cut"),
        pytest.param(_with_repeated("9991234567890 0   CA"), "frequent flyer airline designator", id="designator-cut"),
        # Air Berlin printed `AB` without its blank, so the number starts a character early (swift-bcbp).
        pytest.param(
            _with_repeated("9991234567890 0   AB123456789            "), "frequent flyer airline designator", id="designator-unpadded"
        ),
        pytest.param(_with_repeated("9991234567890 0   CA 1234 5678           "), "frequent flyer number", id="blank-inside-the-number"),
        pytest.param(_with_repeated("9991234567890 0   CA  123456789          "), "frequent flyer number", id="number-not-left-aligned"),
        pytest.param(
            _with_repeated("9991234567890 0   12 123456789           "), "frequent flyer airline designator", id="two-digit-designator"
        ),
        # A section announcing more than its leg's field holds: where the airline's own data starts is unknown.
        pytest.param(_single(">60B1WW6225BCA 2A999"), "field size of repeated conditional items", id="repeated-past-the-field"),
        pytest.param(_single(">6181WW62"), "field size of unique conditional items", id="unique-past-the-field"),
        pytest.param(_single(">60"), "field size of unique conditional items", id="size-cut"),
        pytest.param(_single(">6G01W"), "field size of unique conditional items", id="size-not-hex"),
        pytest.param(_single(">X0"), "version number", id="version-not-a-digit"),
        pytest.param(
            "M2LI/WEI              EXYZ789 PEKKMGCA 1831 120F002A0012 104>600XYZ789 KMGCTUCA 4402 121Y030C0044 102ZZ",
            "field size of repeated conditional items",
            id="second-leg-size-not-hex",
        ),
    ],
)
def test_conditional_items_that_read_two_ways_are_refused_naming_the_item(raw, field):
    with pytest.raises(BcbpError) as error:
        parse(raw)
    assert error.value.field == field, str(error.value)


def test_an_error_in_a_later_legs_conditional_items_names_that_leg_and_its_position():
    second = "XYZ789 KMGCTUCA 4402 121Y030C0044 1" + "0B" + "0A999123456"  # announces 10, 9 follow in a field of 11
    raw = "M2LI/WEI              E" + "XYZ789 PEKKMGCA 1831 120F002A0012 104>600" + second
    with pytest.raises(BcbpError) as error:
        parse(raw)
    assert (error.value.field, error.value.leg) == ("field size of repeated conditional items", 2)
    assert f"position {raw.index('0A999') + 1}" in error.value.message, error.value.message


@pytest.mark.parametrize(("raw", "field"), AMBIGUOUS_PASSES)
def test_real_passes_that_read_two_ways_are_refused_naming_the_item(raw, field):
    with pytest.raises(BcbpError) as error:
        parse(raw)
    assert error.value.field == field, str(error.value)


@pytest.mark.parametrize("name", ["MÜLLER/JÖRG", "ÇELIK/AYŞE", "O'NEIL/MARY-ANN", "李/伟"])
def test_names_in_any_script_are_read(name):
    raw = f"M1{name:<20}EABC123 PEKKMGCA 1831 120F002A0012 100"
    assert parse(raw).passenger_name == name.upper()


# --- properties -----------------------------------------------------------------------------------

LETTERS = st.sampled_from([*string.ascii_uppercase, "Ä", "Ö", "Ü", "É", "Ç", "Ş", "李", "伟"])
name_words = st.text(LETTERS, min_size=1, max_size=8)
names = st.builds(lambda surname, given: f"{surname}/{given}", name_words, name_words)
alnum = string.ascii_uppercase + string.digits
iata_carriers = st.text(alnum, min_size=2, max_size=2).filter(lambda code: not code.isdigit())
carriers = st.one_of(iata_carriers, st.text(string.ascii_uppercase, min_size=3, max_size=3))
variable_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@st.composite
def legs(draw: st.DrawFn) -> Leg:
    digits = draw(st.integers(1, 9999))
    seat = draw(
        st.one_of(
            st.none(), st.just("INF"), st.builds(lambda row, letter: f"{row:03d}{letter}", st.integers(1, 99), st.sampled_from("ABCDEFHJK"))
        )
    )
    return Leg(
        pnr=draw(st.text(alnum, min_size=5, max_size=7)),
        origin=draw(st.text(string.ascii_uppercase, min_size=3, max_size=3)),
        destination=draw(st.text(string.ascii_uppercase, min_size=3, max_size=3)),
        carrier=draw(carriers),
        number=f"{digits}{draw(st.sampled_from(['', 'A', 'Z']))}",
        day_of_year=draw(st.integers(1, 366)),
        compartment=draw(st.one_of(st.none(), st.sampled_from("FJCYM"))),
        seat=seat,
        check_in_sequence=draw(st.one_of(st.none(), st.integers(1, 9999).map(lambda n: f"{n:04d}"))),
        passenger_status=draw(st.sampled_from("0123456789A")),
        variable=draw(variable_text),
    )


NUMBER_STYLES = ("standard", "five_digits", "unpadded")  # 0834 / 00834 / 834: what issuers print
DAY_STYLES = ("{:03d}", "{:<3d}", "{:>3d}")  # 099 by the standard, `99 ` and ` 99` by some issuers


def encode(boarding_pass: BoardingPass, *, number_style: str, day_style: str) -> str:
    """The pass as an issuer prints it, in fixed widths."""
    out = [f"M{len(boarding_pass.legs)}{boarding_pass.passenger_name:<20}{'E' if boarding_pass.electronic_ticket else ' '}"]
    for leg in boarding_pass.legs:
        digits = leg.number.rstrip(string.ascii_uppercase)
        suffix = leg.number[len(digits) :]
        width = {"standard": 4, "five_digits": 4 if suffix else 5, "unpadded": 1}[number_style]
        out.append(
            f"{leg.pnr:<7}{leg.origin}{leg.destination}{leg.carrier:<3}{f'{int(digits):0{width}d}{suffix}':<5}"
            f"{day_style.format(leg.day_of_year)}{leg.compartment or ' '}{leg.seat or '':<4}{leg.check_in_sequence or '':<5}"
            f"{leg.passenger_status}{len(leg.variable):02X}{leg.variable}"
        )
    return "".join(out)


ff_numbers = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=16)
frequent_flyers = st.one_of(st.none(), st.tuples(carriers, st.one_of(st.just(""), ff_numbers)))


@st.composite
def boarding_passes(draw: st.DrawFn) -> BoardingPass:
    """A pass without conditional items (every leg's field the airline's own data), or with them: each leg
    its own frequent-flyer items or none, all ten repeated items or only as far as the number."""
    drawn = draw(st.lists(legs(), min_size=1, max_size=4))
    if not draw(st.booleans()):
        drawn[0] = replace(drawn[0], variable=drawn[0].variable.lstrip(">"))  # a `>` would open conditional items
    else:
        for index, leg in enumerate(drawn):
            frequent_flyer = draw(frequent_flyers)
            variable = passes.conditional_items(
                frequent_flyer,
                first_leg=index == 0,
                version=draw(st.integers(1, 9)),
                through_frequent_flyer=draw(st.booleans()),
                airline_data=leg.variable,
            )
            airline, number = frequent_flyer or (None, None)
            drawn[index] = replace(leg, variable=variable, frequent_flyer_airline=airline, frequent_flyer_number=number or None)
    return BoardingPass(passenger_name=draw(names), electronic_ticket=draw(st.booleans()), legs=tuple(drawn))


@given(
    boarding_pass=boarding_passes(),
    number_style=st.sampled_from(NUMBER_STYLES),
    day_style=st.sampled_from(DAY_STYLES),
    security=st.one_of(st.just(""), variable_text.map(lambda data: f"^1{data}")),
)
def test_every_well_formed_pass_reads_back_as_it_was_printed(boarding_pass, number_style, day_style, security):
    assert parse(encode(boarding_pass, number_style=number_style, day_style=day_style) + security) == boarding_pass


VALID = "M1LI/WEI              EXYZ789 PEKKMGCA 1831 120F002A0012 100"


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """A valid pass with characters replaced, cut or added: near misses an arbitrary string rarely is."""
    raw = list(draw(st.sampled_from([VALID, *(param.values[0] for param in REAL_PASSES)])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw) - 1))
        raw[at] = draw(st.characters())
    return "".join(raw)[: draw(st.integers(0, len(raw)))] + draw(st.text(max_size=5))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(st.text(), damaged()))
@example(raw="M1" + " " * 60)
@example(raw=VALID.replace("1831 ", "\u0661\u0668\u0663\u0661 "))
def test_any_string_is_read_or_refused_naming_an_item(raw):
    try:
        parse(raw)
    except BcbpError as error:
        assert error.field and str(error)

"""IATA Resolution 792 bar-coded boarding pass, format `M`: the mandatory items of every leg, and the
frequent-flyer airline and number of each leg's conditional items.

Pure parsing, no I/O. Layout by position (docs/lounge.md): format code (1), number of legs (1),
passenger name (20), e-ticket indicator (1); then per leg PNR (7), from (3), to (3),
operating carrier (3), flight number (5), date of flight as day of year (3), compartment (1),
seat (4), check-in sequence (5), passenger status (1), size of the variable field in hex (2)
and that field; the next leg starts right after it. Security data may follow, after `^`.

The first leg's field may open with the conditional items (docs/lounge.md "Conditional items"): `>`, the
version (1), the size in hex (2) of the unique items and those items, then the size (2) of the leg's
repeated items and those items; every further leg's field opens with the size of its own repeated items.
Of those, the frequent-flyer airline designator (3) and number (16) are read; what follows the sized
sections is the airline's own data. A section may stop after any item (many issuers print only the first
few); it may not run past its leg's field, nor stop inside the frequent-flyer items.

Beyond the letter of the standard, what real issuers print and can be read one way only is read:
a mixed-case or non-ASCII name, a blank PNR, compartment, seat or sequence (an itinerary document
before seats are given), a 3-letter ICAO carrier, a day of year padded with blanks, and a single
leg's conditional items printed after a field size of 00. What could be read two ways is refused,
naming the item.
"""

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

# How far from today a day of year may land once its year is inferred (a boarding pass is
# printed days before the flight, or read back shortly after it).
MAX_DISTANCE_DAYS = 200


class BcbpError(ValueError):
    """The string is not a valid boarding pass; `field` names the item at fault."""

    def __init__(self, field: str, message: str, *, leg: int | None = None) -> None:
        self.field = field
        self.leg = leg
        self.message = message
        where = f" (leg {leg})" if leg is not None and leg > 1 else ""
        super().__init__(f"{field}{where}: {message}")


@dataclass(frozen=True)
class Leg:
    pnr: str
    origin: str
    destination: str
    carrier: str  # as printed: the IATA designator, or the 3-letter ICAO one some issuers print
    number: str  # without leading zeros, its suffix kept: `834`, `583A`
    day_of_year: int
    compartment: str | None  # None on an itinerary document, printed before seats are given
    seat: str | None
    check_in_sequence: str | None
    passenger_status: str
    variable: str
    # From the leg's repeated conditional items, blanks stripped; None when not printed or blank.
    frequent_flyer_airline: str | None = None
    frequent_flyer_number: str | None = None

    @property
    def flight_no(self) -> str:
        return f"{self.carrier}{self.number}"


@dataclass(frozen=True)
class BoardingPass:
    passenger_name: str  # upper case, whatever case the issuer printed
    electronic_ticket: bool
    legs: tuple[Leg, ...]

    @property
    def surname(self) -> str:
        return self.passenger_name.split("/", 1)[0]

    def leg_from(self, station: str) -> Leg | None:
        return next((leg for leg in self.legs if leg.origin == station), None)


# Every item but the name is ASCII: [0-9] and [A-Z], never \d or str.isdigit, which take any script's digits.
# A name is letters of any script (issuers print MÜLLER or Mroz as well as DOE) with ' . - and blanks.
_LETTER = r"[^\W\d_]"
NAME = re.compile(rf"^{_LETTER}(?:{_LETTER}|[' .\-])*(?:/(?:{_LETTER}|[' .\-])*)?$")
PNR = re.compile(r"^([A-Z0-9]{0,7}) *$")
AIRPORT = re.compile(r"^[A-Z]{3}$")
# A 2-character IATA designator and a blank (not two digits), or a 3-letter ICAO one (easyJet prints EZY).
_DESIGNATOR = r"(?![0-9]{2})([A-Z0-9]{2}) |([A-Z]{3})"
CARRIER = re.compile(f"^(?:{_DESIGNATOR})$")
FF_DESIGNATOR = re.compile(f"^(?:{_DESIGNATOR}|   )$")  # the same, or blank: no programme
# Up to 4 digits and an optional letter, left-aligned, or zero-padded to five (`01831`). Five digits that
# do not start with 0 are refused: 18310 may be flight 1831 or a number no airline has.
FLIGHT_NUMBER = re.compile(r"^0?([0-9]{1,4})([A-Z]?) *$")
# Zero-padded by the standard; blank-padded on either side by some issuers (easyJet prints `99 `).
DAY = re.compile(r"^ *([0-9]{1,3}) *$")
COMPARTMENT = re.compile(r"^[A-Z ]$")
SEAT = re.compile(r"^ *([0-9]{1,3}[A-Z]|INF|STBY)? *$")
SEQUENCE = re.compile(r"^ *([0-9]{1,5}[A-Z]?)? *$")
STATUS = re.compile(r"^[0-9A-Z]$")
HEX = re.compile(r"^[0-9A-Fa-f]{2}$")
CONDITIONAL = ">"  # the version indicator opening the conditional items
VERSION = re.compile(r"^[1-9]$")
# Left-aligned and blank-padded: a number of letters, digits and the marks issuers add (Air France's `/P`).
FF_NUMBER = re.compile(r"^(?:([!-~]+) *| +)$")
# The repeated items before the frequent-flyer airline: airline numeric code (3), document form and serial
# number (10), selectee indicator (1), international documentation verification (1), marketing carrier (3).
BEFORE_FREQUENT_FLYER = 18
FF_AIRLINE_SIZE = 3
FF_NUMBER_SIZE = 16
SECURITY = "^"


class _Reader:
    """Fixed-width items of `raw`, which starts at `offset` in the pass: positions in errors are the pass's."""

    def __init__(self, raw: str, *, offset: int = 0, what: str = "the string") -> None:
        self.raw = raw
        self.pos = 0
        self.offset = offset
        self.what = what

    def more(self) -> bool:
        return self.pos < len(self.raw)

    def take(self, size: int, field: str, pattern: re.Pattern[str] | None, leg: int | None = None, hint: str = "") -> str:
        if self.pos + size > len(self.raw):
            end = self.offset + len(self.raw)
            raise BcbpError(field, f"{self.what} ends at position {end}, before this field ends (needs {size} characters)", leg=leg)
        value = self.raw[self.pos : self.pos + size]
        if pattern is not None and pattern.match(value) is None:
            raise BcbpError(field, f"{value!r} at position {self.offset + self.pos + 1} is not valid{hint}", leg=leg)
        self.pos += size
        return value

    def match(self, size: int, field: str, pattern: re.Pattern[str], leg: int | None = None, hint: str = "") -> re.Match[str]:
        return pattern.match(self.take(size, field, pattern, leg, hint))  # type: ignore[return-value]


def parse(raw: str) -> BoardingPass:
    """Every mandatory item, validated; raises BcbpError naming the first bad one."""
    if not raw.isprintable():
        raise BcbpError("boarding_pass", "only printable characters may appear")
    reader = _Reader(raw)
    reader.take(1, "format code", re.compile("^M$"), hint=" (only format M is read)")
    legs_count = int(reader.take(1, "number of legs", re.compile("^[1-4]$"), hint=" (1 to 4)"))
    name = reader.take(20, "passenger name", None).rstrip()
    if NAME.match(name) is None:
        raise BcbpError("passenger name", f"{name!r} is not SURNAME/GIVEN in letters")
    ticket = reader.take(1, "electronic ticket indicator", re.compile("^[E ]$"), hint=" (E or blank)")
    legs, starts = [], []
    for number in range(1, legs_count + 1):
        legs.append(_leg(reader, number))
        starts.append(reader.pos - len(legs[-1].variable))
    rest = raw[reader.pos :]
    if rest and not rest.startswith(SECURITY):
        if not (legs_count == 1 and not legs[0].variable and rest.startswith(CONDITIONAL)):
            raise BcbpError("number of legs", f"{len(rest)} characters follow the last of {legs_count} legs")
        # Qatar prints the conditional items after a variable field size of 00. With one leg that is
        # unambiguous: nothing but security data may follow the last leg. With more, the next leg's
        # start is unknown, and its PNR is refused above.
        legs[0] = replace(legs[0], variable=rest.split(SECURITY, 1)[0])
        starts[0] = reader.pos
    if legs[0].variable.startswith(CONDITIONAL):
        # Only a pass whose first leg opens the conditional items has them; without, every leg's field is the
        # airline's own data, read as before.
        legs = [_with_conditional_items(leg, number, start) for number, (leg, start) in enumerate(zip(legs, starts, strict=True), start=1)]
    return BoardingPass(passenger_name=name.upper(), electronic_ticket=ticket == "E", legs=tuple(legs))


def _with_conditional_items(leg: Leg, number: int, start: int) -> Leg:
    """The leg with its frequent-flyer items, read from the sized sections of its variable field (which starts
    at `start` in the pass, for the positions errors give)."""
    reader = _Reader(leg.variable, offset=start, what="the leg's variable field")
    if number == 1:
        reader.pos = len(CONDITIONAL)
        if not reader.more():
            return leg
        reader.take(1, "version number", VERSION, hint=" (1 to 9)")
        if not reader.more():
            return leg
        _section(reader, "field size of unique conditional items", number)
    if not reader.more():
        return leg
    section_start = reader.offset + reader.pos + 2
    repeated = _Reader(
        _section(reader, "field size of repeated conditional items", number), offset=section_start, what="the repeated conditional items"
    )
    if len(repeated.raw) <= BEFORE_FREQUENT_FLYER:
        return leg
    repeated.pos = BEFORE_FREQUENT_FLYER
    hint = " (a 2-character designator and a blank, 3 letters, or blank)"
    designator = repeated.match(FF_AIRLINE_SIZE, "frequent flyer airline designator", FF_DESIGNATOR, number, hint)
    ff_number = None
    if repeated.more():
        ff_number = repeated.match(FF_NUMBER_SIZE, "frequent flyer number", FF_NUMBER, number, " (left-aligned, no blank inside)").group(1)
    return replace(leg, frequent_flyer_airline=designator.group(1) or designator.group(2), frequent_flyer_number=ff_number)


def _section(reader: _Reader, field: str, leg: int) -> str:
    """A section with its size in hex before it, whole within the leg's variable field."""
    size = int(reader.take(2, field, HEX, leg, " (2 hexadecimal digits)"), 16)
    remaining = len(reader.raw) - reader.pos
    if size > remaining:
        raise BcbpError(
            field,
            f"{size} characters announced at position {reader.offset + reader.pos - 1}, {remaining} left in the leg's variable field",
            leg=leg,
        )
    return reader.take(size, field, None, leg)


def _leg(reader: _Reader, leg: int) -> Leg:
    pnr = reader.match(7, "PNR", PNR, leg).group(1)
    origin = reader.take(3, "from", AIRPORT, leg, " (an IATA airport code)")
    destination = reader.take(3, "to", AIRPORT, leg, " (an IATA airport code)")
    iata, icao = reader.match(3, "operating carrier", CARRIER, leg, " (a 2-character designator and a blank, or 3 letters)").groups()
    digits, suffix = reader.match(5, "flight number", FLIGHT_NUMBER, leg, " (up to 4 digits and an optional letter)").groups()
    if int(digits) == 0:
        raise BcbpError("flight number", "flight number 0 does not exist", leg=leg)
    day_field = reader.match(3, "date of flight", DAY, leg, " (a day of year, 001 to 366)").group(1)
    day = int(day_field)
    if not 1 <= day <= 366:
        raise BcbpError("date of flight", f"{day_field!r} is not a day of year (001 to 366)", leg=leg)
    compartment = reader.take(1, "compartment", COMPARTMENT, leg).strip()
    seat = reader.match(4, "seat", SEAT, leg, " (e.g. 001A, 12C, INF, or blank)").group(1)
    sequence = reader.match(5, "check-in sequence", SEQUENCE, leg).group(1)
    status = reader.take(1, "passenger status", STATUS, leg)
    size = int(reader.take(2, "variable field size", HEX, leg, " (2 hexadecimal digits)"), 16)
    variable = reader.take(size, "variable field", None, leg) if size else ""
    return Leg(
        pnr=pnr,
        origin=origin,
        destination=destination,
        carrier=iata or icao,
        number=f"{int(digits)}{suffix}",
        day_of_year=day,
        compartment=compartment or None,
        seat=seat,
        check_in_sequence=sequence,
        passenger_status=status,
        variable=variable,
    )


def infer_date(day_of_year: int, today: date) -> date:
    """The date nearest today with that day of year: a day more than ~6 months ahead is last year's,
    and one far behind is next year's (a pass printed on 31 December for a flight on 1 January)."""
    candidates = [
        date(year, 1, 1) + timedelta(days=day_of_year - 1)
        for year in (today.year - 1, today.year, today.year + 1)
        if day_of_year <= (366 if calendar.isleap(year) else 365)
    ]
    nearest = min(candidates, key=lambda candidate: abs((candidate - today).days), default=None)
    if nearest is None or abs((nearest - today).days) > MAX_DISTANCE_DAYS:
        raise BcbpError("date of flight", f"day {day_of_year:03d} does not occur near {today.isoformat()}")
    return nearest

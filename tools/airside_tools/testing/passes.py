"""Boarding passes as the lounge's reception scanner reads them, for tests and the bench (docs/lounge.md)."""

from __future__ import annotations

from datetime import date

# Resolution 792's unique conditional items of the first leg, as an issuer fills them: passenger description,
# source of check-in, source of boarding pass issuance, date of issue (yddd), document type, issuer's designator.
UNIQUE_ITEMS = "1WW6225BCA "


def repeated_items(frequent_flyer: tuple[str, str] | None = None, *, through_frequent_flyer: bool = False) -> str:
    """A leg's repeated conditional items, their size (hex) first: airline numeric code and document number
    filled, the frequent-flyer airline designator (a 2-character one padded with a blank) and number when
    given, blank otherwise. All ten items of version 6 (42 characters), or only as far as the frequent-flyer
    number when `through_frequent_flyer` (as SAS and Air France print them)."""
    airline, number = frequent_flyer or ("", "")
    items = f"9991234567890 0   {airline:<3}{number:<16}"
    if not through_frequent_flyer:
        items += " 20KN"  # ID/AD indicator, free baggage allowance, fast track
    return f"{len(items):02X}{items}"


def conditional_items(
    frequent_flyer: tuple[str, str] | None = None, *, first_leg: bool = True, version: int = 6, through_frequent_flyer: bool = False,
    airline_data: str = "",
) -> str:  # fmt: skip
    """A leg's variable field with conditional items: on the first leg `>`, the version and the unique items
    with their size, then (every leg) the repeated items, then the airline's own data."""
    unique = f">{version}{len(UNIQUE_ITEMS):02X}{UNIQUE_ITEMS}" if first_leg else ""
    return unique + repeated_items(frequent_flyer, through_frequent_flyer=through_frequent_flyer) + airline_data


def boarding_pass(
    name: str,
    *,
    carrier: str,
    number: str,
    flight_date: date,
    origin: str,
    destination: str,
    cabin: str = "Y",
    seat: str = "002A",
    pnr: str = "ABC123",
    frequent_flyer: tuple[str, str] | None = None,
) -> str:
    """A single-leg IATA BCBP (Resolution 792, format M): `cabin` is the compartment code (F, J, C, Y, ...), the
    check-in sequence 0012 and passenger status 1. Without `frequent_flyer` the mandatory items only; with
    (airline designator, number) the conditional items of version 6 carrying them."""
    day_of_year = flight_date.timetuple().tm_yday
    variable = conditional_items(frequent_flyer) if frequent_flyer is not None else ""
    return (
        f"M1{name:<20}E{pnr:<7}{origin}{destination}{carrier:<3}{number:<5}{day_of_year:03d}{cabin}{seat:<4}0012 1"
        f"{len(variable):02X}{variable}"
    )

"""Boarding passes as the lounge's reception scanner reads them, for tests and the bench (docs/lounge.md)."""

from __future__ import annotations

from datetime import date


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
) -> str:
    """A single-leg IATA BCBP (Resolution 792, format M) with the mandatory items only: `cabin` is the compartment
    code (F, J, C, Y, ...), the check-in sequence 0012, passenger status 1 and no conditional items."""
    day_of_year = flight_date.timetuple().tm_yday
    return f"M1{name:<20}E{pnr:<7}{origin}{destination}{carrier:<3}{number:<5}{day_of_year:03d}{cabin}{seat:<4}0012 100"

"""Flight numbers as every service reads them: a carrier of 2 letters or digits (`CA`, `3U`), 1 to 4
digits and an optional suffix letter (`CA1831`, `3U8888`, `MU583A`).

ASCII only: [0-9], never \\d, which takes any script's digits (in Python's re and in the Rust regex
pydantic validates patterns with). A route takes one `{flight_no}` and splits it here, never
`{carrier}{number}`, which a router matches greedily (`CA1831` → `CA183` + `1`).
"""

import re
from typing import Annotated

from fastapi import Path

_CARRIER = "[A-Z0-9]{2}"
_NUMBER = "[0-9]{1,4}[A-Z]?"

CARRIER_PATTERN = f"^{_CARRIER}$"
NUMBER_PATTERN = f"^{_NUMBER}$"
FLIGHT_NO_PATTERN = f"^{_CARRIER}{_NUMBER}$"
# A carrier's IATA designator in a route (booking's carriers and the call center's copies).
Designator = Annotated[str, Path(pattern=CARRIER_PATTERN, description="IATA designator, e.g. CA")]
# fullmatch, not match: `$` in Python's re also matches before a final newline.
_FLIGHT_NO = re.compile(f"({_CARRIER})({_NUMBER})")


def split_flight_no(flight_no: str) -> tuple[str, str]:
    """`CA1831` → (`CA`, `1831`); ValueError for anything that is not a flight number."""
    match = _FLIGHT_NO.fullmatch(flight_no)
    if match is None:
        raise ValueError(f"{flight_no!r} is not a flight number like CA1831")
    return match.group(1), match.group(2)

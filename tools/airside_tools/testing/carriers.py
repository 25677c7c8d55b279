"""A carrier of a test's own, registered through booking's API."""

from __future__ import annotations

import random
import string

import httpx

# A digit and a letter: no test registers such a designator by name (they fly letter pairs), so one drawn
# here never takes another test's.
DRAWN_DESIGNATORS = [digit + letter for digit in string.digits for letter in string.ascii_uppercase]


async def new_carrier(http: httpx.AsyncClient, admin: dict[str, str], *, booking_url: str = "", name: str | None = None) -> str:
    """Register a designator nobody registered yet (drawn at random, drawn again while taken); its designator."""
    for designator in random.sample(DRAWN_DESIGNATORS, len(DRAWN_DESIGNATORS)):
        body = {"designator": designator, "name": name or f"Airline {designator}"}
        response = await http.post(f"{booking_url}/v1/carriers", json=body, headers=admin)
        if response.status_code == 201:
            return designator
        assert response.status_code == 409, response.text
    raise AssertionError("every designator a test may draw is taken")

"""The webhook API is every service's, for its own events (docs/webhooks.md, Filters): the lounge takes
filters of the lounge's events and refuses booking's. The rest of the API is tested on booking."""

import pytest
from lounge_support import ADMIN

# Refused after the filters were accepted: no subscription is made, whatever the filters.
LOOPBACK = "https://127.0.0.1:9/hooks"


@pytest.mark.parametrize("event_types", [["airside.lounge.visit.*"], ["airside.lounge.sale.completed"], ["*"]])
async def test_the_lounge_takes_filters_of_its_own_events(client, event_types):
    response = await client.post("/v1/webhooks", json={"url": LOOPBACK, "event_types": event_types}, headers=ADMIN)
    assert response.status_code == 422 and [error["field"] for error in response.json()["errors"]] == ["body.url"]


async def test_the_lounge_refuses_a_filter_of_bookings_events_naming_it(client):
    body = {"url": LOOPBACK, "event_types": ["airside.lounge.visit.*", "airside.booking.order.*"]}
    response = await client.post("/v1/webhooks", json=body, headers=ADMIN)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body.event_types"
    assert error["message"] == "event_types[1]: 'airside.booking.order.*' selects none of the events lounge publishes"

"""POST /v1/queue/claim: most urgent first, atomically; two agents never get one ticket."""

import asyncio

from cc_support import DAY, frozen, local, new_agent, new_station, open_ticket

from airside_tools.testing.harness import auth


async def test_claims_take_the_most_urgent_first_and_204_when_empty(client, callcenter):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    staff = auth("agent", stations=[station])
    with frozen(local(DAY, 10)):
        low = await open_ticket(client, staff, station, priority="P4")
        urgent = await open_ticket(client, staff, station, priority="P1")
    first = await client.post("/v1/queue/claim", headers=headers)
    assert first.status_code == 200 and first.json()["id"] == urgent["id"] and first.json()["status"] == "open"
    assert (await client.post("/v1/queue/claim", headers=headers)).json()["id"] == low["id"]
    assert (await client.post("/v1/queue/claim", headers=headers)).status_code == 204
    stranger = await client.post("/v1/queue/claim", headers=auth("agent", stations=[station]))
    assert stranger.status_code == 403  # no agent record for this subject


async def test_two_agents_claiming_at_once_never_get_the_same_ticket(client, callcenter):
    station = await new_station(callcenter)
    agents = [await new_agent(client, station) for _ in range(6)]
    staff = auth("agent", stations=[station])
    with frozen(local(DAY, 10)):
        tickets = [await open_ticket(client, staff, station) for _ in range(4)]
    answers = await asyncio.gather(*(client.post("/v1/queue/claim", headers=headers) for _agent, headers in agents))
    claimed = [answer.json()["id"] for answer in answers if answer.status_code == 200]
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 200, 204, 204]
    assert sorted(claimed) == sorted(ticket["id"] for ticket in tickets)
    owners = {(await client.get(f"/v1/tickets/{tid}", headers=staff)).json()["assignee"] for tid in claimed}
    assert len(owners) == 4

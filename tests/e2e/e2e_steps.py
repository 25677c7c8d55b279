"""What the front ends and an airline system do, one typed step per action, for the end-to-end journeys.

Every step talks to a running service over HTTP, or to NATS the way an airline system does, and
asserts the answer it expects (a refusal is asked for explicitly with `expect=`). Nothing here
reaches into a database: what a journey checks is what a user could see.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats

from airside.events import flights as flight_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing import passes
from airside_tools.testing.events import acknowledged_everything, published_events
from airside_tools.testing.harness import auth, wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
PEK_LOUNGE = "PEK-T3-VIP"
KMG_LOUNGE = "KMG-VIP"
CALLING_HOURS = (time(9, 0), time(21, 0))

Headers = dict[str, str]
Json = dict[str, Any]

# Flight numbers nobody else in this run uses; CA1831 is kept for the journeys that name it.
_numbers = itertools.count(random.randrange(2000, 7000))


# --- time ----------------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_date(moment: datetime, zone: ZoneInfo = SHANGHAI) -> date:
    return moment.astimezone(zone).date()


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A station wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def within_calling_hours(moment: datetime, zone: ZoneInfo = SHANGHAI) -> bool:
    opens, closes = CALLING_HOURS
    return opens <= moment.astimezone(zone).time() <= closes


# --- flights -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flight:
    carrier: str
    number: str
    flight_date: date
    origin: str
    destination: str
    std: datetime | None = None
    sta: datetime | None = None

    @property
    def flight_no(self) -> str:
        return self.carrier + self.number

    @classmethod
    def departing(
        cls, std: datetime, *, origin: str = "PEK", destination: str = "KMG", carrier: str = "CA", number: str | None = None
    ) -> Flight:
        """A flight leaving `origin` at `std`; its flight_date is the origin's local date."""
        return cls(carrier, number or str(next(_numbers)), local_date(std), origin, destination, std=std)

    @classmethod
    def arriving(cls, sta: datetime, *, origin: str = "PEK", destination: str, carrier: str = "CA") -> Flight:
        return cls(carrier, str(next(_numbers)), local_date(sta), origin, destination, sta=sta)

    def ref(self) -> Json:
        """The flight as an order names it."""
        body: Json = {
            "carrier": self.carrier,
            "number": self.number,
            "flight_date": self.flight_date.isoformat(),
            "origin": self.origin,
            "destination": self.destination,
        }
        if self.std is not None:
            body["std"] = iso(self.std)
        if self.sta is not None:
            body["sta"] = iso(self.sta)
        return body


def boarding_pass(name: str, flight: Flight, *, seat: str = "002A", pnr: str = "ABC123", cabin: str = "Y") -> str:
    """The pass of a passenger of `flight`, as the reception scanner reads it."""
    return passes.boarding_pass(
        name, carrier=flight.carrier, number=flight.number, flight_date=flight.flight_date, origin=flight.origin,
        destination=flight.destination, cabin=cabin, seat=seat, pnr=pnr,
    )  # fmt: skip


def letters(index: int, width: int = 3) -> str:
    """AAA, AAB, ...: names on boarding passes are letters only."""
    out = ""
    for _ in range(width):
        index, digit = divmod(index, 26)
        out = chr(ord("A") + digit) + out
    return out


# --- HTTP plumbing -------------------------------------------------------------------------------


def expect_status(response: httpx.Response, *expected: int) -> httpx.Response:
    assert response.status_code in expected, (
        f"{response.request.method} {response.request.url} answered {response.status_code}, expected {expected}: {response.text[:2000]}"
    )
    return response


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 15) -> Any:
    """Poll a check made through the API until it holds (never sleep a fixed time)."""
    return await wait_for(check, timeout=timeout, what=what, interval=0.1)


async def gather_limited(calls: Iterable[Awaitable[Any]], limit: int = 16) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with semaphore:
            return await call

    return await asyncio.gather(*(one(call) for call in calls))


class Client:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def call(self, method: str, path: str, headers: Headers, *, expect: int | Sequence[int] = 200, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        return expect_status(response, *([expect] if isinstance(expect, int) else expect))

    async def every(self, path: str, headers: Headers, params: dict[str, Any] | None = None) -> list[Json]:
        """Every item of a listing, through all its pages (docs/http.md, pagination)."""
        items: list[Json] = []
        query: dict[str, Any] = {**(params or {}), "limit": 200}
        while True:
            page = (await self.call("GET", path, headers, params=query)).json()
            items += page["items"]
            if not page["next_cursor"]:
                return items
            query["cursor"] = page["next_cursor"]

    async def readyz(self) -> Json:
        return (await self.call("GET", "/readyz", {})).json()

    async def metric(self, name: str, **labels: str) -> float:
        """One Prometheus sample of this process (0 when it has not been counted yet)."""
        text = (await self.call("GET", "/metrics", {})).text
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"^{name}\{{(.*)\}} ([0-9.e+-]+)$", line)
            if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
                total += float(match.group(2))
        return total

    async def applied(self, consumer: str) -> float:
        return await self.metric("airside_consumer_events_total", consumer=consumer, outcome="applied")

    async def dead_letters(self, status: str | None = None) -> list[Json]:
        return await self.every("/v1/ops/dead-letters", ADMIN, {"status": status} if status else {})

    async def replay_dead_letter(self, letter_id: int, *, expect: int = 200) -> httpx.Response:
        return await self.call("POST", f"/v1/ops/dead-letters/{letter_id}/replay", ADMIN, expect=expect)


def staff(role: str, station: str = "PEK", sub: str | None = None) -> Headers:
    return auth(role, stations=[station], sub=sub or f"{role}-{station.lower()}-e2e")


ADMIN = auth("admin", stations=["*"], sub="admin-e2e")


def member_token(member: Json) -> Headers:
    """What the app or the web sends for a signed-in member."""
    return auth("member", member_id=member["id"], stations=[])


# --- booking -------------------------------------------------------------------------------------


@dataclass
class Concierge:
    id: str
    name: str
    station: str
    headers: Headers = field(repr=False)


class Booking(Client):
    async def register_member(self, name: str, *, tier: str = "gold", phone: str | None = None, station: str = "PEK") -> Json:
        phone = phone or f"+86139{random.randrange(10**8):08d}"
        body = {"name": name, "phone": phone, "tier": tier}
        return (await self.call("POST", "/v1/members", staff("agent", station), json=body, expect=201)).json()

    async def put_station(self, code: str, name: str, timezone: str = "Asia/Shanghai") -> Json:
        return (await self.call("PUT", f"/v1/stations/{code}", ADMIN, json={"name": name, "timezone": timezone})).json()

    async def price(self, products: Sequence[str], tier: str) -> int:
        """What the products cost a member of this tier, from the published price list."""
        listed = {product["code"]: product for product in await self.every("/v1/products", staff("agent"))}
        return sum(listed[code]["prices"][tier] for code in products)

    async def book(
        self,
        member: Json,
        flight: Flight,
        *,
        products: Sequence[str] = ("DEP_ESCORT", "LOUNGE"),
        passengers: Sequence[str] | None = None,
        station: str | None = None,
        direction: str = "departure",
        channel: str = "call_center",
        by: Headers | None = None,
        expect: int = 201,
        **extra: Any,
    ) -> Json:
        station = station or (flight.origin if direction == "departure" else flight.destination)
        body = {
            "member_id": member["id"],
            "station": station,
            "direction": direction,
            "flight": flight.ref(),
            "items": [{"product": product} for product in products],
            "passengers": [{"name": name} for name in (passengers or [member["name"]])],
            "channel": channel,
            **{key: iso(value) if isinstance(value, datetime) else value for key, value in extra.items()},
        }
        response = await self.call("POST", "/v1/orders", by or staff("agent", station), json=body, expect=expect)
        return response.json()

    async def order(self, order_id: str, station: str = "PEK") -> Json:
        return (await self.call("GET", f"/v1/orders/{order_id}", staff("concierge_lead", station))).json()

    async def orders(self, station: str = "PEK", **filters: Any) -> list[Json]:
        """Every order of a listing, through all its pages."""
        params = {"station": station, **{("date" if key == "day" else key): str(v) for key, v in filters.items()}}
        return await self.every("/v1/orders", staff("concierge_lead", station), params)

    async def history(self, order_id: str, station: str = "PEK") -> list[Json]:
        return await self.every(f"/v1/orders/{order_id}/history", staff("concierge_lead", station))

    async def act(self, order: Json, action: str, body: Json | None, by: Headers, expect: int = 200) -> httpx.Response:
        return await self.call("POST", f"/v1/orders/{order['id']}/{action}", by, json=body, expect=expect)

    async def confirm(self, order: Json, by: Headers | None = None) -> Json:
        by = by or staff("agent", order["station"])
        return (await self.act(order, "confirm", {"notes": "confirmed with the member by phone"}, by)).json()

    async def assign(self, order: Json, concierge: Concierge, *, expect: int = 200) -> httpx.Response:
        return await self.act(order, "assign", {"concierge_id": concierge.id}, staff("concierge_lead", order["station"]), expect)

    async def start(self, order: Json, concierge: Concierge) -> Json:
        return (await self.act(order, "start", None, concierge.headers)).json()

    async def complete(self, order: Json, concierge: Concierge, fees: tuple[int, str] | None = None) -> Json:
        body = {"fees_collected": {"amount_minor": fees[0], "method": fees[1]}} if fees else None
        return (await self.act(order, "complete", body, concierge.headers)).json()

    async def cancel(self, order: Json, reason: str, by: Headers | None = None) -> Json:
        return (await self.act(order, "cancel", {"reason": reason}, by or staff("agent", order["station"]))).json()

    async def candidates(self, order: Json) -> list[Json]:
        return await self.every(f"/v1/orders/{order['id']}/candidates", staff("concierge_lead", order["station"]))

    async def new_concierge(self, name: str, station: str = "PEK") -> Concierge:
        subject = f"concierge-{uuid.uuid4()}"
        body = {"name": name, "station": station, "phone": "+8613700137000", "subject": subject}
        created = (await self.call("POST", "/v1/concierges", staff("concierge_lead", station), json=body, expect=201)).json()
        return Concierge(created["id"], created["name"], station, auth("concierge", stations=[station], sub=subject))

    async def put_shifts(self, concierge: Concierge, day: date, shifts: list[tuple[str, str]]) -> None:
        body = [{"start": start, "end": end} for start, end in shifts]
        await self.call(
            "PUT", f"/v1/concierges/{concierge.id}/shifts/{day.isoformat()}", staff("concierge_lead", concierge.station), json=body
        )

    async def on_duty_around(self, concierge: Concierge, moment: datetime) -> None:
        """Three overnight shifts end to end: on duty from noon the day before `moment`'s local day to noon two
        days after, so at least 36 hours either side of it (two ended at noon the next day: a window 14 hours
        ahead fell outside it whenever `moment` was late in its local evening)."""
        day = local_date(moment)
        await self.put_shifts(concierge, day - timedelta(days=1), [("12:00", "11:59")])
        await self.put_shifts(concierge, day, [("11:59", "11:58")])
        await self.put_shifts(concierge, day + timedelta(days=1), [("11:58", "11:57")])

    async def schedule(self, concierge: Concierge, day: date) -> Json:
        headers = staff("concierge_lead", concierge.station)
        return (await self.call("GET", f"/v1/concierges/{concierge.id}/schedule", headers, params={"date": day.isoformat()})).json()

    async def daily_services(self, station: str, day: date, *, csv: bool = False) -> httpx.Response:
        headers = {**staff("station_manager", station), **({"Accept": "text/csv"} if csv else {})}
        return await self.call("GET", "/v1/reports/daily-services", headers, params={"station": station, "date": day.isoformat()})


# --- lounge --------------------------------------------------------------------------------------


class Lounge(Client):
    async def lounge(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> httpx.Response:
        return await self.call("GET", f"/v1/lounges/{lounge_id}", staff("station_manager", station))

    async def change_lounge(self, lounge_id: str, station: str, **changes: Any) -> Json:
        """The station manager changes a lounge's settings (If-Match from a fresh read)."""
        current = await self.lounge(lounge_id, station)
        headers = {**staff("station_manager", station), "If-Match": current.headers["ETag"]}
        return (await self.call("PATCH", f"/v1/lounges/{lounge_id}", headers, json=changes)).json()

    async def open_all_day(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> None:
        """So a journey run at night is not refused as `closed`: the station manager opens the lounge
        round the clock (00:00-00:00) when its hours would not cover the next quarter of an hour."""
        held = (await self.lounge(lounge_id, station)).json()
        opens, closes = time.fromisoformat(held["opens"]), time.fromisoformat(held["closes"])
        start, end = now().astimezone(SHANGHAI), now().astimezone(SHANGHAI) + timedelta(minutes=15)
        if opens != closes and not (start.date() == end.date() and opens <= start.time() and end.time() < closes):
            await self.change_lounge(lounge_id, station, opens="00:00", closes="00:00")

    async def knows_flight(self, flight: Flight) -> Json | None:
        response = await self.http.get(
            f"{self.url}/v1/flights/{flight.flight_no}/{flight.flight_date.isoformat()}", headers=staff("lounge_staff", flight.origin)
        )
        return response.json() if response.status_code == 200 else None

    async def knows_member(self, member_id: str, station: str = "PEK") -> Json | None:
        response = await self.http.get(f"{self.url}/v1/members/{member_id}", headers=staff("lounge_staff", station))
        return response.json() if response.status_code == 200 else None

    async def expected_visit(self, order_id: str, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> Json | None:
        rows = await self.every(f"/v1/lounges/{lounge_id}/expected-visits", staff("lounge_staff", station), {"order_id": order_id})
        return rows[0] if rows else None

    async def expected_visits(self, flight_date: date, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> list[Json]:
        params = {"flight_date": flight_date.isoformat()}
        path = f"/v1/lounges/{lounge_id}/expected-visits"
        return await self.every(path, staff("lounge_staff", station), params)

    async def check_in(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK", *, expect: int = 201, **body: Any) -> httpx.Response:
        return await self.call("POST", f"/v1/lounges/{lounge_id}/visits", staff("lounge_staff", station), json=body, expect=expect)

    async def visit(self, visit_id: str, station: str = "PEK") -> Json:
        return (await self.call("GET", f"/v1/visits/{visit_id}", staff("lounge_staff", station))).json()

    async def bill(self, visit_id: str, station: str = "PEK") -> Json:
        return (await self.call("GET", f"/v1/visits/{visit_id}/bill", staff("lounge_staff", station))).json()

    async def sell(self, visit: Json, *lines: tuple[str, int], expect: int = 201) -> httpx.Response:
        body = {"lines": [{"sku": sku, "qty": qty} for sku, qty in lines]}
        return await self.call("POST", f"/v1/visits/{visit['id']}/sales", staff("lounge_staff", visit["station"]), json=body, expect=expect)

    async def check_out(self, visit: Json, payment_method: str | None = None) -> Json:
        body = {"payment_method": payment_method} if payment_method else None
        return (await self.call("POST", f"/v1/visits/{visit['id']}/checkout", staff("lounge_staff", visit["station"]), json=body)).json()

    async def board(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> list[Json]:
        return await self.every(f"/v1/lounges/{lounge_id}/board", staff("lounge_staff", station))

    async def visits(self, lounge_id: str, station: str, status: str | None = None) -> list[Json]:
        return await self.every(f"/v1/lounges/{lounge_id}/visits", staff("lounge_staff", station), {"status": status} if status else {})

    async def occupancy(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> Json:
        return (await self.call("GET", f"/v1/lounges/{lounge_id}/occupancy", staff("lounge_staff", station))).json()

    async def stock(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK") -> dict[str, Json]:
        rows = await self.every(f"/v1/lounges/{lounge_id}/stock", staff("lounge_staff", station))
        return {row["sku"]: row for row in rows}

    async def count_stock(self, lounge_id: str, station: str, counted: dict[str, int]) -> Json:
        body = {"lines": [{"sku": sku, "counted": qty} for sku, qty in counted.items()]}
        return (
            await self.call("POST", f"/v1/lounges/{lounge_id}/stock-counts", staff("lounge_staff", station), json=body, expect=201)
        ).json()

    async def requisitions(self, lounge_id: str = PEK_LOUNGE, station: str = "PEK", status: str | None = None) -> list[Json]:
        params = {"lounge_id": lounge_id, **({"status": status} if status else {})}
        return await self.every("/v1/requisitions", staff("lounge_staff", station), params)

    async def requisition_step(
        self, requisition: Json, step: str, by: Headers, body: Json | None = None, *, expect: int = 200
    ) -> httpx.Response:
        return await self.call("POST", f"/v1/requisitions/{requisition['id']}/{step}", by, json=body, expect=expect)

    async def daily_sales(self, lounge_id: str, day: date, station: str = "PEK", *, csv: bool = False) -> httpx.Response:
        headers = {**staff("station_manager", station), **({"Accept": "text/csv"} if csv else {})}
        return await self.call("GET", "/v1/reports/daily-sales", headers, params={"lounge_id": lounge_id, "date": day.isoformat()})


# --- call center ---------------------------------------------------------------------------------


class CallCenter(Client):
    async def knows_station(self, code: str) -> bool:
        response = await self.http.get(f"{self.url}/v1/stations/{code}/calendar", headers=ADMIN)
        return response.status_code == 200

    async def find_caller(self, phone: str, station: str = "PEK") -> Json | None:
        found = await self.every("/v1/members", staff("agent", station), {"phone": phone})
        return found[0] if found else None

    async def new_agent(self, station: str, role: str = "agent") -> tuple[Json, Headers]:
        subject = f"agent-{uuid.uuid4()}"
        body = {"name": f"Agent {subject[-4:]}", "station": station, "role": role, "subject": subject}
        created = (await self.call("POST", "/v1/agents", staff("supervisor", station), json=body, expect=201)).json()
        return created, auth(role, stations=[station], sub=subject)

    async def open_ticket(self, by: Headers | None = None, **body: Any) -> Json:
        body = {"channel": "phone", "description": "", "station": "PEK", **body}
        return (await self.call("POST", "/v1/tickets", by or staff("agent", body["station"]), json=body, expect=201)).json()

    async def ticket(self, ticket_id: str, station: str = "PEK") -> Json:
        return (await self.call("GET", f"/v1/tickets/{ticket_id}", staff("agent", station))).json()

    async def tickets(self, at: str = "PEK", **filters: str) -> list[Json]:
        """Every ticket of a listing, through all its pages, as an agent of station `at` sees it."""
        return await self.every("/v1/tickets", staff("agent", at), filters)

    async def complaint_step(self, ticket: Json, step: str, by: Headers, body: Json | None = None, *, expect: int = 200) -> Json:
        response = await self.call("POST", f"/v1/tickets/{ticket['id']}/complaint/{step}", by, json=body, expect=expect)
        return response.json()

    async def callbacks(self, order_id: str, station: str = "PEK") -> list[Json]:
        return (await self.call("GET", "/v1/callbacks", staff("agent", station), params={"order_id": order_id})).json()["items"]

    async def all_callbacks(self, station: str = "PEK") -> list[Json]:
        """Every callback of a station, through all the pages of the listing."""
        return await self.every("/v1/callbacks", staff("agent", station), {"station": station})

    async def record_attempt(self, callback: Json, by: Headers, **body: Any) -> Json:
        return (await self.call("POST", f"/v1/callbacks/{callback['id']}/attempts", by, json=body, expect=201)).json()

    async def claim(self, by: Headers) -> Json | None:
        response = await self.call("POST", "/v1/queue/claim", by, expect=(200, 204))
        return response.json() if response.status_code == 200 else None

    async def kpis(self, station: str, day_from: date, day_to: date) -> Json:
        params = {"station": station, "from": day_from.isoformat(), "to": day_to.isoformat()}
        return (await self.call("GET", "/v1/reports/kpis", staff("supervisor", station), params=params)).json()

    async def callback_summary(self, station: str, day_from: date, day_to: date) -> Json:
        params = {"station": station, "from": day_from.isoformat(), "to": day_to.isoformat()}
        return (await self.call("GET", "/v1/reports/callbacks", staff("supervisor", station), params=params)).json()


# --- an airline system on NATS -------------------------------------------------------------------


class Airline:
    """Publishes flight status into Airside exactly as another airline system would."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url

    async def publish(self, flight: Flight, status: str = "scheduled", **fields: Any) -> CloudEvent:
        payload = flight_events.FlightStatusChanged(
            carrier=flight.carrier,
            number=flight.number,
            flight_date=flight.flight_date,
            origin=flight.origin,
            destination=flight.destination,
            status=status,
            updated_at=fields.pop("updated_at", None) or now(),
            std=flight.std,
            sta=flight.sta,
            **fields,
        )
        event = flight_events.flight_status.build(payload, subject=f"{flight.flight_no}/{flight.flight_date}", source="airline/test")
        await publish_raw(self.nats_url, event.type, event.to_json(), event.id)
        return event


async def publish_raw(nats_url: str, subject: str, data: bytes, message_id: str) -> None:
    connection = await nats.connect(servers=nats_url.split(","))
    try:
        await connection.jetstream().publish(subject, data, headers={"Nats-Msg-Id": message_id}, timeout=10)
    finally:
        await connection.close()


async def events_about(nats_url: str, subject: str, about: str, *, count: int = 1, timeout: float = 15) -> list[CloudEvent]:
    """The events on `subject` whose CloudEvent subject is `about`, once at least `count` are there."""

    def mine(seen: list[CloudEvent]) -> list[CloudEvent]:
        return [event for event in seen if event.subject == about]

    seen = await published_events(nats_url, subject, until=lambda seen: len(mine(seen)) >= count, timeout=timeout)
    return mine(seen)


# --- the set, as the journeys see it -------------------------------------------------------------


@dataclass
class Airside:
    http: httpx.AsyncClient
    booking: Booking
    lounge: Lounge
    callcenter: CallCenter
    airline: Airline
    nats_url: str

    @classmethod
    def connect(cls, http: httpx.AsyncClient, urls: dict[str, str], nats_url: str) -> Airside:
        return cls(
            http=http,
            booking=Booking(http, urls["booking"]),
            lounge=Lounge(http, urls["lounge"]),
            callcenter=CallCenter(http, urls["callcenter"]),
            airline=Airline(nats_url),
            nats_url=nats_url,
        )

    # Compound steps the journeys share.

    async def member_known_everywhere(self, name: str, *, tier: str = "gold") -> Json:
        """Booking registers the member; lounge and the call center have their copies soon after."""
        member = await self.booking.register_member(name, tier=tier)

        async def copied() -> bool:
            return bool(await self.lounge.knows_member(member["id"]) and await self.callcenter.find_caller(member["phone"]))

        await eventually(copied, f"member {member['id']} copied to lounge and callcenter")
        return member

    async def on_duty_concierge(self, around: datetime, station: str = "PEK", name: str = "礼宾 李娜") -> Concierge:
        concierge = await self.booking.new_concierge(name, station)
        await self.booking.on_duty_around(concierge, around)
        return concierge

    async def order_in_service(self, member: Json, flight: Flight, concierge: Concierge, **book: Any) -> Json:
        """Booked, confirmed with the member, assigned, and the member met (in_service)."""
        order = await self.booking.book(member, flight, **book)
        await self.booking.confirm(order)
        await self.booking.assign(order, concierge)
        started = await self.booking.start(order, concierge)
        assert started["status"] == "in_service", started
        return started

    async def flight_in_lounge(self, flight: Flight) -> Json:
        return await eventually(lambda: self.lounge.knows_flight(flight), f"lounge knowing {flight.flight_no}/{flight.flight_date}")

    async def order_status(self, order: Json, status: str, timeout: float = 15) -> Json:
        async def reached() -> Json | None:
            held = await self.booking.order(order["id"], order["station"])
            return held if held["status"] == status else None

        return await eventually(reached, f"order {order['ref']} {status}", timeout)

    async def expected_in_lounge(self, order: Json, version: int | None = None) -> Json:
        async def expected() -> Json | None:
            row = await self.lounge.expected_visit(order["id"])
            return row if row and (version is None or row["order_version"] >= version) else None

        return await eventually(expected, f"lounge expecting order {order['ref']}")

    async def the_one_callback(self, order: Json, timeout: float = 15) -> Json:
        async def scheduled() -> list[Json]:
            return await self.callcenter.callbacks(order["id"], order["station"])

        callbacks = await eventually(scheduled, f"a callback for order {order['ref']}", timeout)
        assert len(callbacks) == 1, callbacks
        return callbacks[0]

    async def tickets_of(self, order: Json, **filters: str) -> list[Json]:
        return await self.callcenter.tickets(at=order["station"], order_id=order["id"], **filters)


async def contract_copied(airside: Airside, contract_id: str, *, version: int) -> None:
    """The contract's event is on booking's stream (its relay has published it) and the lounge's and the call
    center's consumers have acknowledged all of that stream (after their commits): both copies hold `version`.
    The ack floors alone could be read before the relay published, and pass with the copies still missing."""

    async def published() -> bool:
        events = await events_about(airside.nats_url, "airside.booking.contract.upserted", contract_id, count=1)
        return any(event.data["contract"]["version"] >= version for event in events)

    await eventually(published, f"contract {contract_id} v{version} on booking's stream")
    for durable in ("lounge-booking", "callcenter-booking"):
        await eventually(partial(acknowledged_everything, airside.nats_url, "AIRSIDE_BOOKING", durable), f"{durable}'s copy")

"""An airline system's side of Airside's events, as docs/integrating.md describes it: log in as the
`airline` user, read booking's order events through a durable consumer of its own, and publish a
flight status. Needs only nats-py.

    AIRLINE_NATS_PASSWORD=... python examples/airline_consumer.py --url nats://airside.example:4222 \
        --flight CA1831/2026-11-22 --status delayed --etd 2026-11-22T09:35:00Z

It prints one JSON line per order event it has not seen before and one for the status it published.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from datetime import UTC, datetime

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

DURABLE = "airline-booking"  # the airline user's durable on AIRSIDE_BOOKING (docs/nats-security.md)


async def read_orders(js: nats.js.JetStreamContext, *, idle_seconds: float) -> None:
    """Every order event not seen before, until none has come for `idle_seconds`; each acked after it is handled."""
    # Created again at every start with the same settings: harmless. Name and durable name both, so the
    # client asks for it by the subject the airline user is allowed.
    await js.add_consumer(
        "AIRSIDE_BOOKING",
        ConsumerConfig(
            name=DURABLE,
            durable_name=DURABLE,
            filter_subject="airside.booking.order.>",
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_deliver=10,
        ),
    )
    orders = await js.pull_subscribe_bind(durable=DURABLE, stream="AIRSIDE_BOOKING")
    seen: set[str] = set()  # a real system keeps the ids it handled in its own database
    while True:
        try:
            batch = await orders.fetch(batch=50, timeout=idle_seconds)
        except (NatsTimeout, TimeoutError):  # nothing new for that long (nats-py raises either, by where the wait ended)
            return
        for message in batch:
            event = json.loads(message.data)
            if event["id"] not in seen:  # delivery is at least once: the same event may come again
                seen.add(event["id"])
                order = event["data"]["order"]
                print(json.dumps({"type": event["type"], "order": order["ref"], "status": order["status"], "version": order["version"]}))
            await message.ack()


async def publish_status(js: nats.js.JetStreamContext, flight: str, status: str, etd: str | None) -> None:
    """One flight status, as a CloudEvent with its id as Nats-Msg-Id; published again until JetStream acknowledges it."""
    flight_no, flight_date = flight.split("/")
    data = {
        "carrier": flight_no[:2],
        "number": flight_no[2:],
        "flight_date": flight_date,
        "origin": "PEK",
        "destination": "KMG",
        "status": status,
        "updated_at": datetime.now(UTC).isoformat(),
        **({"etd": etd} if etd else {}),
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "airline/ops-control",
        "type": "airside.flight.status",
        "subject": flight,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    for _attempt in range(5):
        try:
            ack = await js.publish("airside.flight.status", json.dumps(event).encode(), headers={"Nats-Msg-Id": event["id"]}, timeout=5)
        except NatsTimeout:
            continue  # no acknowledgement: the same bytes again (JetStream keeps one per Nats-Msg-Id)
        print(json.dumps({"published": event["id"], "stream": ack.stream, "duplicate": bool(ack.duplicate)}))
        return
    raise SystemExit("no acknowledgement from JetStream: the status was not published")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("AIRSIDE_NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--idle-seconds", type=float, default=2.0, help="stop reading after this long with nothing new")
    parser.add_argument("--flight", help="a flight as CA1831/2026-11-22, to publish a status of")
    parser.add_argument("--status", default="delayed")
    parser.add_argument("--etd", help="the estimated departure, UTC (ISO 8601)")
    args = parser.parse_args()
    nc = await nats.connect(args.url, user="airline", password=os.environ["AIRLINE_NATS_PASSWORD"])
    try:
        js = nc.jetstream()
        await read_orders(js, idle_seconds=args.idle_seconds)
        if args.flight:
            await publish_status(js, args.flight, args.status, args.etd)
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main())

"""The example airline consumer (examples/airline_consumer.py, docs/integrating.md) works as written: run as
a process against a nats-server on the deployed configuration, logged in as the `airline` user, it reads
booking's order events through its own durable (each once, and on a second run only what is new) and
publishes a flight status that every consumer of flight status takes."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

import nats
from nats.js.api import AckPolicy, ConsumerConfig
from test_nats_security import PASSWORDS, deployed_nats

from airside import events
from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside.messaging.envelope import parse_envelope
from airside.messaging.streams import ensure_streams

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "airline_consumer.py"


def run_example(url: str, *args: str) -> list[dict]:
    env = {"PATH": "/usr/bin:/bin", "AIRLINE_NATS_PASSWORD": PASSWORDS["airline"]}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", url, "--idle-seconds", "1", *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def publish_as_booking(js, definition, ref: str) -> None:
    data = json.loads(json.dumps(events.EXAMPLES[definition.type]))
    data["order"]["ref"] = ref
    event = definition.build(definition.payload.model_validate(data), subject=data["order"]["id"], source="airside/booking")
    await js.publish(definition.subject, event.to_json(), headers={"Nats-Msg-Id": event.id})


async def test_the_example_reads_orders_once_through_its_own_durable_and_publishes_a_flight_status(tmp_path):
    with deployed_nats(tmp_path) as server:
        booking = await nats.connect(server.url, user="booking", password=PASSWORDS["booking"])
        try:
            js = booking.jetstream()
            await ensure_streams(js, replicas=1, max_age_seconds=3600)
            first, second = f"SO{uuid.uuid4().hex[:6].upper()}", f"SO{uuid.uuid4().hex[:6].upper()}"
            await publish_as_booking(js, booking_events.order_created, first)
            await publish_as_booking(js, booking_events.order_completed, first)

            lines = run_example(server.url, "--flight", "CA1831/2026-11-22", "--status", "delayed", "--etd", "2026-11-22T09:35:00Z")
            assert [(line["type"], line["order"]) for line in lines if "order" in line] == [
                (booking_events.order_created.type, first),
                (booking_events.order_completed.type, first),
            ]
            (published,) = [line for line in lines if "published" in line]
            assert published["stream"] == "AIRSIDE_FLIGHTS" and not published["duplicate"]
            # Read as booking reads flight status: through its own durable (its user may not read the stream otherwise).
            await js.add_consumer("AIRSIDE_FLIGHTS", ConsumerConfig(durable_name="booking-flights", ack_policy=AckPolicy.EXPLICIT))
            (message,) = await (await js.pull_subscribe_bind(durable="booking-flights", stream="AIRSIDE_FLIGHTS")).fetch(1, timeout=5)
            status = flight_events.received_status(parse_envelope(message.data))  # as booking and the lounge take it
            assert (status.flight_no, status.status, status.etd.isoformat()) == ("CA1831", "delayed", "2026-11-22T09:35:00+00:00")

            # The durable kept its place: a second run reads only the event published since.
            await publish_as_booking(js, booking_events.order_cancelled, second)
            assert [line["order"] for line in run_example(server.url) if "order" in line] == [second]
        finally:
            await booking.close()

"""`make bench`: ceilings C1-C6, then targets P1-P7, P9, P10 and P13 (a carrier-month's statement), booking's scale-out (P11) and
tracing's cost (P12), in one run; one table, one JSON file.

Order matters on a 2-core machine: ceilings first on a quiet machine, read-only targets (P5, P4)
before the write floods (P2, P1), P10 once the lounge is quiet again, P11 and P12 on booking processes
of their own, and P7 last with everything else stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airside.settings import AirsideSettings
from airside_tools.processes import ServiceProcess
from airside_tools.webhook_receiver import Certificates, ReceiverProcess
from bench import ceilings, datagen, feeds, makerun, pipeline, scaleout, settlement, stack, targets, tracing, webhooks
from bench.report import Row, machine, render, write

SERVICES = ("booking", "lounge", "callcenter")
P3_EVENTS = 100_000
ENVELOPE_BYTES = 900  # about an order event's envelope


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


async def publishing(dbs: stack.Databases, tmp: Path, raw: dict[str, Any], seconds: float, backlog: int) -> None:
    """C3 and P3 on a nats-server configured like deploy/nats/nats.conf, then with the default sync."""
    relay_db = await dbs.create("relay")
    await stack.migrate("booking", relay_db)
    for label, sync_always in (("always", True), ("default", False)):
        nats = stack.ConfiguredNats(tmp / f"nats-publish-{label}", sync_always=sync_always)
        nats.start()
        try:
            log(f"C3 raw JetStream publish, sync {label}")
            raw[f"C3_{label}"] = await ceilings.c3(nats.url, seconds=seconds, payload_bytes=ENVELOPE_BYTES)
            await stack.truncate(relay_db, "outbox_event")
            await datagen.load_outbox_backlog(relay_db, events=backlog, envelope_bytes=ENVELOPE_BYTES)
            log(f"P3 outbox relay over a {backlog:,}-event backlog, sync {label}")
            raw[f"P3_{label}"] = await ceilings.p3(relay_db, nats.url)
        finally:
            nats.stop()


async def start_services(
    dbs: stack.Databases, nats_url: str, tmp: Path, relay: str = "external", env: dict[str, str] | None = None
) -> tuple[dict[str, ServiceProcess], dict[str, ServiceProcess], dict[str, str]]:
    """The three services and, once each has migrated its database, their relays, as compose deploys them
    (`relay="in_process"`: each service relays its own outbox, for comparison)."""
    urls = {name: await dbs.create(name) for name in SERVICES}
    env = {"AIRSIDE_RELAY": relay, **(env or {})}
    processes = {name: stack.service(name, stack.asyncpg_url(urls[name]), nats_url, tmp / "logs", **env) for name in SERVICES}
    relays = {}
    if relay == "external":
        relays = {name: stack.relay(name, stack.asyncpg_url(urls[name]), nats_url, tmp / "logs", **env) for name in SERVICES}
    for group in (processes, relays):
        for process in group.values():
            process.start()
        await asyncio.to_thread(lambda group=group: [process.wait_ready(90) for process in group.values()])
    return processes, relays, urls


async def run(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    info = machine()
    raw: dict[str, Any] = {"settings": vars(args)}
    dbs = stack.Databases()
    seconds = args.seconds
    # Service logs outlive the run (their path is printed); stores and configs do not.
    logs = Path(tempfile.mkdtemp(prefix="airside-bench-logs-"))
    raw["logs"] = str(logs)
    with tempfile.TemporaryDirectory(prefix="airside-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "logs").symlink_to(logs)
        nats: stack.ConfiguredNats | None = None
        processes: dict[str, ServiceProcess] = {}
        relays: dict[str, ServiceProcess] = {}
        receiver: ReceiverProcess | None = None
        webhook_env: dict[str, str] = {}
        try:
            if wanted(args, "C1", "C2", "P1", "P6"):
                log("C1, C2: bare FastAPI endpoint, two INSERTs with raw asyncpg")
                raw.update(await ceilings.c1_c2(dbs, tmp / "logs", seconds=seconds))
            if wanted(args, "C3", "P3"):
                await publishing(dbs, tmp, raw, seconds=min(seconds, 5), backlog=args.backlog)

            if wanted(args, "C4", "P9"):
                # A partner's HTTPS endpoint on this machine: the services may deliver to loopback and trust its CA.
                certificates = Certificates.create(tmp / "tls")
                receiver = ReceiverProcess(certificates, tmp / "logs")
                receiver.start()
                await asyncio.to_thread(receiver.wait_ready)
                webhook_env = {"AIRSIDE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1", "AIRSIDE_WEBHOOK_CA_FILE": str(certificates.ca_file)}

            log("services on PostgreSQL and a nats-server with sync_interval: always")
            nats = stack.ConfiguredNats(tmp / "nats-services")
            nats.start()
            processes, relays, urls = await start_services(dbs, nats.url, tmp, args.relay, webhook_env)
            pids = {name: process.process.pid for name, process in processes.items()}  # type: ignore[union-attr]
            relay_pids = {f"{name}-relay": process.process.pid for name, process in relays.items()}  # type: ignore[union-attr]
            every_pid = {**pids, **relay_pids, "nats": nats.process.pid}  # type: ignore[union-attr]
            await asyncio.sleep(3)
            raw["P6_idle"] = {name: stack.rss_mb(pid) for name, pid in pids.items()}

            data = await datagen.load_booking_reference(urls["booking"])
            if wanted(args, "P5"):
                log("P5 data: 5,000 orders in one station-day")
                day = datagen.local_day(days_ahead=4)
                await datagen.load_station_day(urls["booking"], data, day=day, orders=5000)
                log("P5 daily service list")
                raw["P5"] = await targets.p5(processes["booking"], day=day)

            if wanted(args, "P4"):
                log(f"P4 data: {args.tickets:,} tickets (COPY, then the migration's indexes)")
                agents = await datagen.load_agents(urls["callcenter"], count=400)
                raw["P4_load"] = await datagen.load_tickets(urls["callcenter"], tickets=args.tickets, agents=[a for a, _ in agents])
                log("C6 raw asyncpg: the ticket list and the claim")
                filters = [(status, priority) for status in datagen.STATUS_WEIGHTS for priority in datagen.PRIORITY_WEIGHTS]
                raw["C6"] = await ceilings.c6(
                    urls["callcenter"],
                    agents=[a for a, _ in agents],
                    filters=filters,
                    rates=(40.0, 20.0),
                    seconds=seconds,
                )
                log("P4 ticket list, claim, text search")
                raw["P4"] = await targets.p4(processes["callcenter"], agents=agents, seconds=seconds, rates=(40.0, 20.0, 20.0))
                raw["P4"]["tickets"] = args.tickets

            if wanted(args, "P2", "C5"):
                log(f"C5 raw JetStream publish -> pull consumer at {args.p2_rate:.0f}/s")
                raw["C5"] = await ceilings.c5(nats.url, rate=args.p2_rate, seconds=seconds, payload_bytes=ENVELOPE_BYTES)
            if wanted(args, "P2"):
                # First at a quarter of the rate (for information: the pipeline's own latency when the
                # machine is not saturated), then at the target's rate, as many times as the target asks.
                runs = [("P2_quarter", args.p2_rate / 4)] + [(f"P2_run{n}", args.p2_rate) for n in range(1, args.p2_runs + 1)]
                for key, rate in runs:
                    log(f"P2 event end to end at {rate:.0f} orders/s")
                    orders = int(rate * (seconds + 2))
                    order_ids = await datagen.load_orders_in_service(urls["booking"], data, orders=orders, serial=len(raw))
                    before = {name: stack.cpu_seconds(pid) for name, pid in every_pid.items()}
                    raw[key] = await pipeline.p2(
                        processes["booking"], urls["booking"], urls["callcenter"], order_ids, rate=rate, warmup=2.0
                    )
                    raw[key]["cpu_ms_per_order"] = stack.cpu_ms_per(len(order_ids), every_pid, before)
                    await asyncio.sleep(2)

            if receiver is not None:
                concurrency = AirsideSettings().webhook_concurrency
                log(f"P9 webhooks: orders, then events, at {args.p9_rate:.0f}/s; C4; a {args.webhook_events:,}-event backlog")
                raw.update(
                    await webhooks.measure(
                        processes["booking"], urls["booking"], receiver, data,
                        rate=args.p9_rate, seconds=seconds, events=args.webhook_events, concurrency=concurrency,
                        pids={name: pid for name, pid in every_pid.items() if name.startswith("booking")},
                        paused=[pid for name, pid in {**pids, **relay_pids}.items() if not name.startswith("booking")],
                    )
                )  # fmt: skip
                raw["C4"]["concurrency"] = concurrency

            if wanted(args, "P1", "P6"):
                log("P1 POST /v1/orders (lounge and callcenter paused: booking's worker alone, like C2)")
                others = [pid for name, pid in {**pids, **relay_pids}.items() if not name.startswith("booking")]
                with stack.RssSampler(pids) as sampler:
                    for pid in others:
                        os.kill(pid, signal.SIGSTOP)
                    try:
                        c2 = raw["C2"]["throughput"]
                        before = {name: stack.cpu_seconds(pid) for name, pid in every_pid.items()}
                        raw["P1"] = await targets.p1(processes["booking"], data, c2_rate=c2, seconds=seconds)
                        answered = raw["P1"]["closed"]["answered"] + raw["P1"]["open"]["answered"]
                        raw["P1"]["cpu_ms_per_order"] = stack.cpu_ms_per(answered, every_pid, before)
                    finally:
                        for pid in others:
                            os.kill(pid, signal.SIGCONT)
                    await asyncio.sleep(5)  # the consumers work through P1's events
                raw["P6_load"] = sampler.peak

            if wanted(args, "P10"):
                log(f"P10 live board feed: {args.feed_clients:,} SSE clients on one lounge process, check-ins at {args.feed_rate:g}/s")
                raw["P10"] = await feeds.p10(
                    processes["lounge"], nats.url, clients=args.feed_clients, check_ins=args.feed_check_ins, rate=args.feed_rate
                )

            if wanted(args, "P13"):
                log(f"P13 a carrier-month's statement: {settlement.VISITS:,} visits, built, issued, its CSV streamed")
                raw["P13"] = await settlement.p13(processes["booking"], urls["booking"])

            if wanted(args, "P11", "P12"):
                # Their booking processes start and stop per run: booking's own make way (its relay holds the
                # relay lock for good), and the lounge and call center pause as in P1.
                for process in (processes["booking"], *([relays["booking"]] if "booking" in relays else [])):
                    await asyncio.to_thread(process.stop)
                with scaleout.paused(pid for name, pid in {**pids, **relay_pids}.items() if not name.startswith("booking")):
                    if wanted(args, "P11"):
                        log("P11 booking on 1, 2 and 3 replicas, round-robin from the load generator, one relay")
                        raw["P11"] = await scaleout.p11(urls["booking"], nats.url, tmp / "logs", data, seconds=seconds)
                    if wanted(args, "P12"):
                        log("P12 P1's orders with tracing off and on (OTLP/HTTP to a local receiver), twice each")
                        raw["P12"] = await tracing.p12(urls["booking"], nats.url, tmp / "logs", data, seconds=seconds)
        finally:
            for process in (*relays.values(), *processes.values(), *([receiver] if receiver else [])):
                process.stop()
            if nats is not None:
                nats.stop()
            await dbs.drop_all()
    if not args.skip_make_run and wanted(args, "P7"):
        log("P7 make run in a fresh copy, warm pip and uv caches")
        raw["P7"] = await asyncio.to_thread(makerun.measure)
    rows = table(raw)
    path = write(rows, raw, started, info)
    print()
    print(render(rows))
    print(f"\nmachine: {info['cpus']} cpus, {info['cpu_model']}, {info['memory_gb']} GB, Python {info['python']}, {info['postgres']}")
    print(f"written to {path.relative_to(stack.ROOT)} ({(datetime.now(UTC) - started).total_seconds():.0f} s); service logs in {logs}")
    return 0


def wanted(args: argparse.Namespace, *ids: str) -> bool:
    """Every phase runs unless --only names others (a full run is what the README's table shows)."""
    return args.only is None or bool(args.only & set(ids))


def table(raw: dict[str, Any]) -> list[Row]:
    rows = []
    if "C2" in raw:
        c2 = raw["C2"]["throughput"]
        rows.append(Row("C1", "bare FastAPI JSON endpoint, 1 worker", raw["C1"]["throughput"], "req/s"))
        rows.append(Row("C2", "FastAPI + 2 INSERTs in 1 tx, raw asyncpg", c2, "req/s"))
    for label in ("always", "default"):
        if f"C3_{label}" in raw:
            name = "C3" if label == "always" else "C3'"
            rows.append(Row(name, f"raw JetStream publish+PubAck, sync {label}", raw[f"C3_{label}"]["rate"], "msg/s"))
    if "P1" in raw:
        closed, opened = raw["P1"]["closed"], raw["P1"]["open"]
        clean = not closed["errors"] and closed["ok"] == closed["completed"]
        ok = clean and closed["throughput"] >= 0.5 * c2
        rows.append(Row("P1", "POST /v1/orders throughput", closed["throughput"], "req/s", c2, "C2", ">= 0.5 x C2", ok))
        kept_up = opened["throughput"] >= 0.95 * opened["offered_rate"] and opened["ok"] == opened["completed"] and not opened["errors"]
        what = f"p99 at {opened['offered_rate']:.0f} req/s offered (0.5 x C2)"
        p99 = opened["latency_ms"]["p99"]
        rows.append(Row("P1", what, p99, "ms", target="< 100 ms", ok=kept_up and p99 < 100))
    if "C5" in raw:
        for key in ("p50", "p99"):
            what = f"raw JetStream publish -> pull consumer {key} at {raw['C5']['rate']:.0f}/s"
            rows.append(Row("C5", what, raw["C5"][f"{key}_ms"], "ms"))
    if "C6" in raw:
        for key, what in (("list", "ticket list"), ("claim", "claim")):
            tickets = raw.get("P4", {}).get("tickets", 0)
            rows.append(Row("C6", f"raw asyncpg {what} p99, {tickets:,} tickets", raw["C6"][key]["p99_ms"], "ms"))
    p2_runs = sorted(key for key in raw if key.startswith("P2_run"))
    for key in p2_runs:
        p2 = raw[key]
        whole = p2["missing_callbacks"] == 0 and p2["completed"] == p2["orders"]
        run = key.removeprefix("P2_run")
        for stat in ("p50", "p99"):
            value, ceiling = p2[f"{stat}_ms"], raw.get("C5", {}).get(f"{stat}_ms")
            ok = whole and ceiling is not None and value <= 4 * ceiling
            what = f"completed -> callback {stat} at {p2['rate']:.0f}/s, run {run} of {len(p2_runs)}"
            rows.append(Row("P2", what, value, "ms", ceiling, f"C5 {stat}", "<= 4 x C5", ok))
    if "P2_quarter" in raw:
        quarter = raw["P2_quarter"]
        for key in ("p50", "p99"):
            rows.append(Row("P2i", f"completed -> callback {key} at {quarter['rate']:.0f}/s (info)", quarter[f"{key}_ms"], "ms"))
    for label, ceiling_id in (("always", "C3"), ("default", "C3'")):
        if f"P3_{label}" in raw and f"C3_{label}" in raw:
            rate, ceiling = raw[f"P3_{label}"]["rate"], raw[f"C3_{label}"]["rate"]
            what = f"outbox relay, {raw['P3_' + label]['published']:,} backlog, sync {label}"
            if label == "always":  # docs/targets.md: C3 and P3 on the compose file's NATS configuration
                rows.append(Row("P3", what, rate, "ev/s", ceiling, ceiling_id, ">= 0.4 x C3", rate >= 0.4 * ceiling))
            else:  # the cost of durability made visible, for information
                rows.append(Row("P3'", what + " (info)", rate, "ev/s", ceiling, ceiling_id))
    if "P4" in raw:
        for key, what in (("list", "GET /v1/tickets status+station+priority p99"), ("claim", "POST /v1/queue/claim p99")):
            result = raw["P4"][key]
            clean = result["ok"] == result["completed"] and not result["errors"]
            p99, ceiling = result["latency_ms"]["p99"], raw.get("C6", {}).get(key, {}).get("p99_ms")
            ok = clean and ceiling is not None and p99 <= 5 * ceiling
            rows.append(Row("P4", f"{what}, {raw['P4']['tickets']:,} tickets", p99, "ms", ceiling, "C6", "<= 5 x C6", ok))
        search = raw["P4"]["search"]
        p99 = search["latency_ms"]["p99"]
        ok = search["ok"] == search["completed"] and p99 < 200
        rows.append(
            Row("P4q", f"GET /v1/tickets?q= (Chinese, Latin) p99, {raw['P4']['tickets']:,} tickets", p99, "ms", target="< 200 ms", ok=ok)
        )
    if "P5" in raw:
        p5 = raw["P5"]
        ok = p5["orders"] >= 5000 and p5["p90_ms"] < 500
        rows.append(Row("P5", f"daily service list, {p5['orders']:,} orders, p90", p5["p90_ms"], "ms", target="< 500 ms", ok=ok))
    if "P6_idle" in raw:
        idle = max(raw["P6_idle"].values())
        rows.append(Row("P6", "RSS idle, largest service", idle, "MB", target="< 150 MB", ok=idle < 150))
    if "P6_load" in raw:
        loaded = max(raw["P6_load"].values())
        rows.append(Row("P6", "RSS under P1 load, largest service", loaded, "MB", target="< 250 MB", ok=loaded < 250))
    if "C4" in raw:
        c4 = raw["C4"]
        what = f"raw httpx POST, HTTPS, signed {c4['body_bytes']:,} B event, {c4['concurrency']} at once"
        rows.append(Row("C4", what, c4["rate"], "req/s"))
    if "P9_throughput" in raw and "C4" in raw:
        p9, c4_rate = raw["P9_throughput"], raw["C4"]["rate"]
        ok = p9["missing"] == 0 and p9["rate"] >= 0.5 * c4_rate
        what = f"webhook deliveries, {p9['events']:,}-event backlog, one subscription"
        rows.append(Row("P9", what, p9["rate"], "ev/s", c4_rate, "C4", ">= 0.5 x C4", ok))
    if "P9_latency" in raw:
        p9 = raw["P9_latency"]
        ok = p9["p99_ms"] < 200 and p9["missing"] == 0
        rows.append(
            Row("P9", f"event committed -> webhook received p99 at {p9['rate']:.0f}/s", p9["p99_ms"], "ms", target="< 200 ms", ok=ok)
        )
    if "P9_orders" in raw:
        orders = raw["P9_orders"]
        rows.append(Row("P9o", f"order POSTed -> webhook received p99 at {orders['rate']:.0f} orders/s (info)", orders["p99_ms"], "ms"))
    if "P10" in raw:
        p10 = raw["P10"]
        whole = p10["missing"] == 0 and p10["connected"] == p10["clients"]
        what = f"check-in 201 -> frame on every client p99, {p10['connected']:,} SSE clients, {p10['check_ins']} check-ins"
        rows.append(Row("P10", what, p10["p99_ms"], "ms", target="< 250 ms", ok=whole and p10["p99_ms"] < 250))
        rows.append(Row("P10i", f"same, p50, {p10['missing']:,} receipts missing (info)", p10["p50_ms"], "ms"))
        growth = p10["rss_growth_mb"]
        what = f"lounge RSS growth, {p10['rss_before_mb']:.0f} MB idle -> peak with {p10['connected']:,} clients"
        rows.append(Row("P10", what, growth, "MB", target="< 100 MB", ok=p10["connected"] == p10["clients"] and growth < 100))
    if "P13" in raw:
        rows += settlement.rows(raw["P13"])
    if "P11" in raw:
        rows += scale_out_rows(raw["P11"])
    if "P12" in raw:
        rows += tracing_rows(raw["P12"])
    if "P7" in raw:
        seconds = raw["P7"]["seconds"]
        rows.append(Row("P7", "make run, fresh venv, warm pip + uv caches -> ready", seconds, "s", target="< 30 s", ok=seconds < 30))
    return rows


def tracing_rows(p12: dict[str, Any]) -> list[Row]:
    """Tracing on against off (docs/tracing.md): the ratio is the cost; informational, no target."""
    off, on = p12["off"], p12["on"]
    return [
        Row("P12", "POST /v1/orders, tracing off (median of 2)", off["orders_per_second"], "req/s"),
        Row("P12", "same, tracing on: OTLP/HTTP to a local receiver", on["orders_per_second"], "req/s", off["orders_per_second"], "off"),
        Row("P12", "booking worker CPU per order, tracing on", on["worker_cpu_ms_per_order"], "ms", off["worker_cpu_ms_per_order"], "off"),
        Row("P12", "booking relay CPU per order, tracing on", on["relay_cpu_ms_per_order"], "ms", off["relay_cpu_ms_per_order"], "off"),
        Row("P12i", "spans received per order (info)", p12["spans_per_order"], "spans"),
    ]


def scale_out_rows(p11: dict[str, Any]) -> list[Row]:
    """Booking's replicas on one database and one relay, all on this machine's cores (docs/capacity.md)."""
    runs = p11["runs"]
    one = runs["1"]["orders_per_second"]
    rows = []
    for count, run in runs.items():
        label = f"{count} booking replica{'s' if count != '1' else ''}"
        what = f"POST /v1/orders, {label}, round-robin, {p11['cpus']} cores"
        rows.append(Row("P11", what, run["orders_per_second"], "req/s", one, "1 replica"))
        what = f"relay publish rate, {label}; {run['backlog_at_end']:,} left at the end"
        rows.append(Row("P11", what, run["events_published_per_second"], "ev/s", run["events_written_per_second"], "written"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per load phase")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--backlog", type=int, default=P3_EVENTS)
    parser.add_argument("--p2-rate", type=float, default=200.0)
    parser.add_argument("--p2-runs", type=int, default=3, help="P2 must hold in this many consecutive runs")
    parser.add_argument("--p9-rate", type=float, default=100.0, help="events/s (and orders/s) for P9's committed -> received latency")
    parser.add_argument("--webhook-events", type=int, default=2000, help="events in P9's delivery backlog (and C4's POSTs)")
    parser.add_argument("--feed-clients", type=int, default=1000, help="P10: SSE clients on the lounge's board stream")
    parser.add_argument("--feed-check-ins", type=int, default=20, help="P10: walk-ins checked in while they are connected")
    parser.add_argument("--feed-rate", type=float, default=2.0, help="P10: check-ins per second")
    parser.add_argument("--skip-make-run", action="store_true", help="leave out P7 (the slowest phase)")
    parser.add_argument(
        "--relay", choices=("external", "in_process"), default="external", help="where the outbox relays run (compose: external)"
    )
    parser.add_argument("--only", type=lambda text: set(text.upper().split(",")), default=None, help="some phases, e.g. P2 or C1,C2,P1")
    started = time.monotonic()
    code = asyncio.run(run(parser.parse_args()))
    log(f"done in {time.monotonic() - started:.0f} s")
    raise SystemExit(code)


if __name__ == "__main__":
    main()

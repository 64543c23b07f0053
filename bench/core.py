"""Benchmark of the core: village heads filing monthly reports through ``Core.handle``.

    python -m bench.core                      # 1,000 heads, 500 msg/s for 20 s (about 40 s)
    python -m bench.core --quick              # a few heads, about a second (the smoke test)
    python -m bench.core --heads 200 --rate 300 --seconds 10
    python -m bench.core --profile /tmp/closed.prof   # cProfile the closed-loop phase
    python -m bench.core --trace /tmp/trace.jsonl     # what the slowest messages waited for

SQLite is a real file in a temporary folder (WAL, ``synchronous`` from ``config.toml``), the
clock is fixed at 09:00 on 5 November 2026 in Vietnam, the random choices are seeded: every
run does the same work.

Phase 1, closed loop (throughput): every head files October's report at once, sending its next
message as soon as the reply to the previous one arrives: ``--heads`` concurrent virtual users.
``messages_per_s`` = messages / wall time of the phase.

Phase 2, open loop (latency): messages are started on a fixed schedule of ``--rate`` per second
for ``--seconds``, whatever the replies; each goes to a head that is waiting for nothing (heads
file a new version of the report, message by message). Latency runs from the *scheduled* send
time to the moment ``core.handle`` returns, so falling behind the schedule counts.

Every reply is checked against what the dialog expects, and every filed report is read back
from the database at the end; any discrepancy makes the run fail (exit status 1, no JSON).
The last line printed is one JSON object: ``messages_per_s``, ``p50_ms``, ``p99_ms`` (open
loop) and ``dialogs`` (reports filed in the closed loop and verified saved: one per head).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import NOW, FixedClock, VirtualHead, build_province, verify_saved
from bench.trace import Tracer, summarise
from bot.app import tune_runtime
from common.config import load_config
from handlers.core import Core
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
GOAL_MESSAGES_PER_S = 1000
GOAL_P99_MS = 10


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (``share`` from 0 to 1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def cpu_snapshot() -> tuple[float, float | None]:
    """(CPU seconds used by this process, busy CPU seconds of the whole machine or None)."""
    own = sum(os.times()[:2])
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        machine = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        machine = None
    return own, machine


def cpu_note(before: tuple[float, float | None], seconds: float) -> str:
    """How busy the CPUs were during a phase, and how much of it was this benchmark."""
    own_now, machine_now = cpu_snapshot()
    own = own_now - before[0]
    text = f"CPU: this process {own / seconds:.2f} of {os.cpu_count()} cores"
    if machine_now is not None and before[1] is not None:
        other = max(0.0, (machine_now - before[1]) - own)
        text += f", other processes {other / seconds:.2f}"
        if other / seconds > 0.2:
            text += " (machine not quiet: figures disturbed)"
    return text


async def closed_loop(heads: list[VirtualHead]) -> dict:
    """Every head files one report, answering as soon as each reply arrives."""
    latencies: list[float] = []

    async def run(head: VirtualHead) -> None:
        while not head.failed:
            sent = time.perf_counter()
            done = await head.step()
            if done is not None:
                latencies.append(done - sent)
            if not head.in_dialog:  # its report is filed (or it failed)
                return
            # A person's next message arrives through the network: let the others in first
            # (without this, a core that never waits would serve one head's whole dialog).
            await asyncio.sleep(0)

    before = sum(h.sent for h in heads)
    started = time.perf_counter()
    await asyncio.gather(*(run(h) for h in heads))
    elapsed = time.perf_counter() - started
    messages = sum(h.sent for h in heads) - before
    return {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "latencies": latencies}


async def open_loop(heads: list[VirtualHead], rate: float, seconds: float,
                    tracer: Tracer | None = None) -> dict:
    """Start ``rate`` messages per second for ``seconds``, each from a head that is free."""
    ready: asyncio.Queue[VirtualHead | None] = asyncio.Queue()  # None: a head failed, stop
    for head in heads:
        ready.put_nowait(head)
    total = max(1, round(rate * seconds))
    latencies: list[float] = []  # scheduled send -> handle returned
    lags: list[float] = []  # scheduled send -> message actually started
    service: list[float] = []  # message started -> handle returned
    tasks: set[asyncio.Task] = set()

    async def one(head: VirtualHead, scheduled: float) -> None:
        traced = tracer.begin_message(scheduled) if tracer else None
        begun = time.perf_counter()
        done = await head.step()
        if traced is not None and done is not None:
            tracer.end_message(traced, done)
        if done is not None:
            latencies.append(done - scheduled)
            lags.append(begun - scheduled)
            service.append(done - begun)
        ready.put_nowait(None if head.failed else head)

    before = sum(h.sent for h in heads)
    start = time.perf_counter() + 0.01
    waited_for_head = 0
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if ready.empty():
            waited_for_head += 1
        head = await ready.get()
        if head is None:
            break
        task = asyncio.create_task(one(head, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    messages = sum(h.sent for h in heads) - before
    return {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "latencies": latencies, "lags": lags, "service": service,
            "waited_for_head": waited_for_head}


async def run(args: argparse.Namespace) -> int:
    config = load_config(ROOT / "config.toml", env={})
    with tempfile.TemporaryDirectory(prefix="bench-core-") as folder:
        db = await Database.open(Path(folder) / "bench.sqlite3",
                                 synchronous=config.db_synchronous,
                                 busy_timeout_ms=config.db_busy_timeout_ms)
        try:
            return await _run(args, config, db)
        finally:
            await db.close()


async def _run(args, config, db: Database) -> int:
    async with db.read() as conn:
        async with conn.execute("PRAGMA journal_mode") as cur:
            journal = (await cur.fetchone())[0]
    print(f"giamngheo-bot core benchmark: {args.heads} village heads, SQLite file"
          f" ({journal}, synchronous={config.db_synchronous}), clock fixed at"
          f" {NOW.astimezone(config.timezone):%Y-%m-%d %H:%M} {config.timezone.key},"
          f" Python {sys.version.split()[0]}")
    started = time.perf_counter()
    specs = await build_province(db, args.heads, seed=args.seed)
    tune_runtime()  # as the bot does at start-up (bot/app.py)
    print(f"built 1 province, {-(-args.heads // 20)} communes, {args.heads} villages and heads"
          f" with last month's reports in {time.perf_counter() - started:.2f} s")

    core = Core(db, config, FixedClock())
    heads = [VirtualHead(core, spec, seed=args.seed) for spec in specs]

    profiler = cProfile.Profile() if args.profile else None
    cpu = cpu_snapshot()
    if profiler:
        profiler.enable()
    closed = await closed_loop(heads)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(f"profile of the closed loop written to {args.profile} (slower under cProfile)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    closed_dialogs = sum(len(h.filed) for h in heads)
    cl = closed["latencies"]
    print(f"closed loop: {closed['messages']} messages, {closed_dialogs} reports filed in"
          f" {closed['seconds']:.2f} s = {closed['rate']:.0f} messages/s"
          f" ({args.heads} concurrent heads; per-message round trip p50 {ms(percentile(cl, .5))}"
          f" ms, p99 {ms(percentile(cl, .99))} ms)")
    print(f"  {cpu_note(cpu, closed['seconds'])}")

    failures = [h.failure for h in heads if h.failure]
    opened = None
    if not failures and args.seconds > 0:
        gc.collect()
        tracer = None
        if args.trace:
            tracer = Tracer(db)
            tracer.install()
            tracer.start()
        cpu = cpu_snapshot()
        opened = await open_loop(heads, args.rate, args.seconds, tracer)
        if tracer:
            await tracer.stop()
        lat, lag, svc = opened["latencies"], opened["lags"], opened["service"]
        open_dialogs = sum(len(h.filed) for h in heads) - closed_dialogs
        print(f"open loop: offered {args.rate:g} messages/s for {args.seconds:g} s,"
              f" {opened['messages']} messages handled in {opened['seconds']:.2f} s"
              f" ({opened['rate']:.0f}/s), {open_dialogs} more reports filed")
        print(f"  latency from scheduled send: p50 {ms(percentile(lat, .5))} ms,"
              f" p90 {ms(percentile(lat, .9))} ms, p99 {ms(percentile(lat, .99))} ms,"
              f" max {ms(max(lat, default=float('nan')))} ms")
        print(f"  of which start lag: p50 {ms(percentile(lag, .5))} ms, p99"
              f" {ms(percentile(lag, .99))} ms; inside core.handle (its queueing included): p50"
              f" {ms(percentile(svc, .5))} ms, p99 {ms(percentile(svc, .99))} ms")
        print(f"  {cpu_note(cpu, opened['seconds'])}")
        if tracer:
            events = tracer.events()
            tracer.write(args.trace, events)
            print(summarise(events))
            print(f"  trace of the open loop written to {args.trace}")
        if opened["waited_for_head"]:
            print(f"  {opened['waited_for_head']} scheduled messages found no free head")
        failures = [h.failure for h in heads if h.failure]

    mix = sum((h.mix for h in heads), Counter())
    print(f"dialogs started: {mix['guided dialogs']} guided, {mix['one-line dialogs']} one-line"
          f" (/baocao 120 15 8 …), {mix['dialogs with a warning confirmed']} confirming a"
          f" warning; messages: {mix['text']} typed, {mix['press']} button presses")
    client = sum(h.client_s for h in heads)
    print(f"virtual heads' own work (planning, checking replies): {client:.2f} s in total")

    verified, problems = await verify_saved(db, heads)
    filed = sum(len(h.filed) for h in heads)
    print(f"verified {verified} of {filed} filed reports in the database, version by version")
    if failures or problems:
        for failure in failures[:10]:
            print(f"UNEXPECTED REPLY: {failure}", file=sys.stderr)
        for problem in problems[:10]:
            print(f"NOT SAVED AS FILED: {problem}", file=sys.stderr)
        print(f"FAILED: {len(failures)} unexpected replies, {len(problems)} reports not saved"
              " as filed; the figures above are not valid", file=sys.stderr)
        return 1

    result = {
        "messages_per_s": round(closed["rate"], 1),
        "p50_ms": ms(percentile(opened["latencies"], .5)) if opened else None,
        "p99_ms": ms(percentile(opened["latencies"], .99)) if opened else None,
        "dialogs": closed_dialogs,
    }
    if args.heads < 1000 or args.rate < 500 or args.seconds == 0:
        print("goals not evaluated: they are set for 1,000 heads and 500 messages/s")
    else:
        ok_rate = result["messages_per_s"] >= GOAL_MESSAGES_PER_S
        ok_p99 = result["p99_ms"] is not None and result["p99_ms"] <= GOAL_P99_MS
        print(f"goal messages_per_s >= {GOAL_MESSAGES_PER_S}: {'met' if ok_rate else 'NOT met'};"
              f" goal p99 <= {GOAL_P99_MS} ms at {args.rate:g}/s:"
              f" {'met' if ok_p99 else 'NOT met'}")
    print(json.dumps(result))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", type=int, default=None,
                        help="village heads (concurrent virtual users); default 1000")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: messages started per second; default 500")
    parser.add_argument("--seconds", type=float, default=None,
                        help="open loop: how long; default 20 (0 skips the open loop)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run: 5 heads, 50 msg/s for 1 s")
    parser.add_argument("--seed", type=int, default=1, help="seed of the heads' choices")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the closed loop, write the stats to FILE, print the top")
    parser.add_argument("--trace", metavar="FILE",
                        help="trace the open loop (messages, write lock, database trips,"
                        " collections, checkpoints, loop lag) to FILE (JSON lines) and print"
                        " what overlapped the slowest 1 %% of messages")
    args = parser.parse_args(argv)
    quick = {"heads": 5, "rate": 50.0, "seconds": 1.0}
    full = {"heads": 1000, "rate": 500.0, "seconds": 20.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.heads < 1 or args.rate <= 0 or args.seconds < 0:
        parser.error("--heads and --rate must be positive, --seconds not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

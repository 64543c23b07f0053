"""Officers' statistics on a synthetic province: 3,000 villages × 60 months of reports.

``python -m bench.stats`` builds 1 province, 150 communes of 20 villages (one head each) and
60 months of monthly reports (October 2021 – September 2026; the last month through
``save_report``, the rest through ``import_monthly``), then measures, on a SQLite file:

* ``province_summary_p95_ms`` / ``commune_summary_p95_ms``: ``StatsService.summary`` — what
  ``/thongke`` computes — for the province (20 runs) and for 100 different communes;
* ``chart_p50_ms``: a chart asked for and drawn (data from SQLite, PNG from the process pool,
  never from the cache: each request is for other data), every kind the data can draw (the
  synthetic province has no exit registrations, so no funnel), the province and communes;
* ``dialog_p99_ms_during_charts``: the latency of the messages of 200 village heads filing
  October's report through the core (200 messages a second for 3 s, each from a head whose
  previous message was answered) while 20 officers each open ``/thongke`` and ask for a
  chart, all at once.

Goals: province ≤ 100 ms, commune ≤ 10 ms, chart ≤ 200 ms, dialog p99 ≤ 50 ms. The last line
is the JSON of the four figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CHANNEL, NOW, PREVIOUS, SETUP, FixedClock, VirtualHead, build_province
from bench.core import ms, open_loop, percentile
from bot.app import tune_runtime
from common.config import load_config, replace
from common.messages import Inbound
from handlers.core import Core
from reports.periods import Month, Period
from reports.stats import CHART_KINDS
from storage import areas, people
from storage.db import Database
from storage.reports import import_monthly

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"province_summary_p95_ms": 100, "commune_summary_p95_ms": 10, "chart_p50_ms": 200,
         "dialog_p99_ms_during_charts": 50}
PERIOD = Period.of_month(Month(2026, 10))


def history(rng: random.Random, village_id: int, months: list[Month]) -> list[tuple]:
    """A village's monthly figures: a poverty rate that falls with some noise."""
    total = rng.randint(80, 400)
    share = rng.uniform(0.05, 0.45)
    rows = []
    for month in months:
        share = max(0.0, share - rng.uniform(0.0, 0.006))
        poor = round(total * share)
        near = round(total * share * rng.uniform(0.3, 0.7))
        rows.append((village_id, month.key, {
            "total": total, "poor": poor, "near_poor": near, "exited": rng.randint(0, 2),
            "newly_poor": 0, "fallen_back": 0, "em_poor": poor // 2, "loans": poor // 3,
            "support_vnd": rng.choice((0, 500_000, 2_000_000)), "note": ""}))
        total += rng.choice((0, 0, 0, 1))
    return rows


async def build(db: Database, villages: int, months: int, seed: int):
    started = time.perf_counter()
    specs = await build_province(db, villages, seed=seed)
    rng = random.Random(seed)
    last = Month.parse_key(PREVIOUS).previous()  # PREVIOUS itself came with the province
    span = [last]
    while len(span) < months - 1:
        span.insert(0, span[0].previous())
    rows = [r for spec in specs for r in history(rng, spec.village.id, span)]
    async with db.write() as conn:
        added = await import_monthly(conn, rows, actor=SETUP, via="bench", at=NOW)
        province = (await areas.children(conn, None))[0]
        communes = await areas.children(conn, province)
        officers = []
        for i, commune in enumerate(communes[:20]):
            pid = await people.create_person(conn, f"Cán bộ {i + 1}", actor=SETUP, at=NOW)
            sender = str(900_000 + i)
            await people.link_identity(conn, pid, channel=CHANNEL, external_id=sender,
                                       chat_id=sender, display_name="", actor=SETUP, at=NOW)
            await people.grant_role(conn, pid, "officer", commune, actor=SETUP, at=NOW)
            officers.append(sender)
    print(f"built {len(specs)} villages in {len(communes)} communes, {added + len(specs)} "
          f"monthly reports ({months} months) in {time.perf_counter() - started:.1f} s")
    return specs, province, communes, officers


async def timed(coro) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


async def officer_asks_for_a_chart(core: Core, sender: str, kind: str, n: int) -> None:
    """``/thongke``, then the chart's button, as an officer's chat does it."""
    def inbound(**kw):
        return Inbound(CHANNEL, sender, sender, f"o{sender}-{n}-{kw.get('text', 'x')[:3]}",
                       **kw)

    replies = await core.handle(inbound(text="/thongke"))
    option = next(o for r in replies for o in r.options if o.data.endswith(f"chart:{kind}"))
    replies = await core.handle(Inbound(CHANNEL, sender, sender, f"o{sender}-{n}-press",
                                        option=option.data, kind="option"))
    if not any(r.image for r in replies):
        raise RuntimeError(f"no chart for officer {sender}: {[r.text for r in replies]}")


async def run(args: argparse.Namespace) -> int:
    config = load_config(ROOT / "config.toml", env={})
    config = replace(config, stats=replace(config.stats, chart_workers=args.workers))
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as folder:
        db = await Database.open(Path(folder) / "bench.sqlite3")
        core = Core(db, config, FixedClock())
        try:
            return await _run(args, config, db, core)
        finally:
            core.close()
            await db.close()


async def profile(args: argparse.Namespace) -> None:
    """``--profile``: cProfile one province summary and one province chart's data."""
    import cProfile
    import pstats

    config = load_config(ROOT / "config.toml", env={})
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as folder:
        db = await Database.open(args.db or Path(folder) / "bench.sqlite3")
        core = Core(db, config, FixedClock())
        try:
            async with db.read() as conn:
                built = await areas.children(conn, None)
            if built:
                province = built[0]
            else:
                _, province, _, _ = await build(db, args.villages, args.months, args.seed)
            await core.stats.resolve()
            await core.stats.summary(province, PERIOD)
            profiler = cProfile.Profile()
            profiler.enable()
            await core.stats.summary(province, PERIOD)
            for kind in ("trend", "completeness", "ranking"):
                await core.stats.chart_data(kind, province, PERIOD)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        finally:
            core.close()
            await db.close()


async def _run(args, config, db: Database, core: Core) -> int:
    print(f"giamngheo-bot statistics benchmark: {args.villages} villages × {args.months} "
          f"months, chart processes: {args.workers}, Python {sys.version.split()[0]}")
    specs, province, communes, officers = await build(db, args.villages, args.months,
                                                      args.seed)
    tune_runtime()
    stats = core.stats
    await stats.resolve()

    province_s = [await timed(stats.summary(province, PERIOD)) for _ in range(args.runs)]
    sample = [communes[i % len(communes)] for i in range(100)]
    commune_s = [await timed(stats.summary(c, PERIOD)) for c in sample]
    summary = await stats.summary(province, PERIOD)
    print(f"province summary: {summary.now.total} households, {summary.now.poor} poor "
          f"({summary.now.poor_rate:.2f} %), {summary.reports.filed}/{summary.villages} reports; "
          f"p50 {ms(percentile(province_s, .5))} ms, p95 {ms(percentile(province_s, .95))} ms")
    print(f"commune summary ({len(sample)} communes): p50 {ms(percentile(commune_s, .5))} ms, "
          f"p95 {ms(percentile(commune_s, .95))} ms")

    await stats.renderer.start()  # as the bot does at start-up
    chart_s: dict[str, list[float]] = {}
    for kind in CHART_KINDS:
        for area in [province, *communes[1:5]]:
            started = time.perf_counter()
            if await stats.chart(kind, area, PERIOD) is not None:  # no data: no chart
                chart_s.setdefault(kind, []).append(time.perf_counter() - started)
    every = [s for values in chart_s.values() for s in values]
    for kind, values in chart_s.items():
        print(f"  chart {kind}: province {ms(values[0])} ms, communes p50 "
              f"{ms(percentile(values[1:], .5))} ms")
    print(f"charts: {len(every)} drawn, p50 {ms(percentile(every, .5))} ms, p95 "
          f"{ms(percentile(every, .95))} ms")

    heads = [VirtualHead(core, spec, seed=args.seed) for spec in specs[:args.heads]]
    alone = await open_loop(heads, args.rate, args.seconds)
    print(f"the same heads without charts: {alone['messages']} messages, latency p50 "
          f"{ms(percentile(alone['latencies'], .5))} ms, p99 "
          f"{ms(percentile(alone['latencies'], .99))} ms")
    drawn = list(chart_s)  # the kinds the synthetic data can draw (no registrations: no funnel)
    kinds = [drawn[i % len(drawn)] for i in range(len(officers))]
    started = time.perf_counter()
    charts_task = asyncio.gather(*(officer_asks_for_a_chart(core, sender, kind, 1)
                                   for sender, kind in zip(officers, kinds, strict=True)))
    loop = await open_loop(heads, args.rate, args.seconds)
    await charts_task
    both = time.perf_counter() - started
    failures = [h.failure for h in heads if h.failure]
    if failures:
        print(f"FAILED: {len(failures)} heads got an unexpected reply: {failures[0]}",
              file=sys.stderr)
        return 1
    lat = loop["latencies"]
    print(f"{len(heads)} heads sent {loop['messages']} messages ({args.rate:g}/s for "
          f"{args.seconds:g} s, {sum(len(h.filed) for h in heads)} reports filed) while "
          f"{len(officers)} officers each opened /thongke and drew a chart ({both:.2f} s in "
          f"all): message latency p50 {ms(percentile(lat, .5))} ms, p99 "
          f"{ms(percentile(lat, .99))} ms")

    result = {"province_summary_p95_ms": ms(percentile(province_s, .95)),
              "commune_summary_p95_ms": ms(percentile(commune_s, .95)),
              "chart_p50_ms": ms(percentile(every, .5)),
              "dialog_p99_ms_during_charts": ms(percentile(lat, .99))}
    if args.villages < 3000 or args.months < 60:
        print("goals not evaluated: they are set for 3,000 villages × 60 months")
    else:
        verdicts = [f"{k} <= {v}: {'met' if result[k] <= v else 'NOT met'}"
                    for k, v in GOALS.items()]
        print("goals: " + "; ".join(verdicts))
    print(json.dumps(result))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stats",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--villages", type=int, default=3000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--heads", type=int, default=200,
                        help="village heads filing while the charts are drawn")
    parser.add_argument("--runs", type=int, default=20, help="province summaries measured")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="messages a second the heads send while the charts are drawn")
    parser.add_argument("--seconds", type=float, default=3.0, help="for how long")
    parser.add_argument("--workers", type=int, default=2, help="chart processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true",
                        help="profile one province summary and chart data instead")
    parser.add_argument("--db", type=Path, help="with --profile: keep the database here and "
                        "use it again next time")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 120 villages × 14 months, 20 heads")
    args = parser.parse_args(argv)
    if args.quick:
        args.villages, args.months, args.heads, args.runs = 120, 14, 20, 3
        args.rate, args.seconds = 50.0, 1.0
    if args.villages < 100 or args.months < 2 or args.heads > args.villages:
        parser.error("--villages must be at least 100 (20 officers' communes), --months at "
                     "least 2, --heads at most --villages")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        asyncio.run(profile(args))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the Zalo channel: webhook events through the Zalo adapter and the core.

    python -m bench.zalo                  # 1,000 heads, 200 at once, 12 events each (~1 min)
    python -m bench.zalo --quick          # a few heads (the smoke test)
    python -m bench.zalo --heads 400 --concurrency 100

Two processes, as in production: the bot (``ZaloChannel``: its aiohttp webhook server, the
inbox, the core, SQLite in WAL mode on a real file, on the event loop of ``bot.event_loop``)
runs in a child process; this process is
Zalo: a small fake Bot API server that answers ``sendMessage`` and records the replies, and the
village heads who post their messages to the bot's webhook (with the secret header, wrapped as
Zalo wraps them).

Every head files October's monthly report in a typed dialog (12 events: ``/baocao``, ten
answers, «Gửi»), sending its next message only when the bot's reply to the previous one has
reached the fake Zalo and says what the dialog expects at that step; any other reply fails the
run. ``--concurrency`` heads chat at once (closed loop).

* ``events_per_s``: events answered / wall time of the run;
* ``p99_ms``: the 99th percentile of an event's latency, from the webhook POST leaving the head
  to the bot's last reply to it arriving at the fake Zalo (the webhook's answer, the storing of
  the event, the dialog, the database transaction, the ``sendMessage`` call).

At the end every report is read back from the database and the inbox must be empty; any
discrepancy makes the run fail (exit status 1, no JSON). The last line printed is one JSON
object: ``events_per_s`` and ``p99_ms``. Goal: at least 500 events a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.common import NOW, PERIOD, FixedClock, HeadSpec, build_province
from bench.core import percentile
from bot.app import run_loop, tune_runtime
from common.config import load_config, replace
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
GOAL_EVENTS_PER_S = 500
TOKEN = "bench-zalo-token"
SECRET = "bench-webhook-secret"
KEYS = ("total", "poor", "near_poor", "exited", "newly_poor", "fallen_back", "em_poor",
        "loans", "support_vnd")


# ---- the bot (child process) ------------------------------------------------------------


async def serve(config, db_path: str, api_url: str, port: int) -> None:
    """Run the Zalo channel on ``db_path`` until SIGTERM, webhook on ``port``."""
    from bot.channels.zalo import ZaloChannel
    from handlers.core import Core

    config = replace(config, zalo=replace(
        config.zalo, token=TOKEN, webhook_secret=SECRET, base_url=api_url, mode="webhook",
        listen_host="127.0.0.1", listen_port=port, public_base_url=f"http://127.0.0.1:{port}",
        max_rate=1000, per_chat_interval=0, concurrent_updates=256))
    tune_runtime()
    db = await Database.open(db_path, synchronous=config.db_synchronous)
    core = Core(db, config, FixedClock())
    channel = ZaloChannel(config, core, db)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await channel.start()
    print("ready", flush=True)
    await stop.wait()
    await channel.stop()
    core.close()
    await db.close()
    print(f"processed {channel.processed}", flush=True)


# ---- Zalo (this process) ------------------------------------------------------------------


@dataclass
class FakeZalo:
    """Just enough Bot API for the bot: getMe, setWebhook, sendMessage (recorded)."""

    webhook: str | None = None
    secret: str | None = None
    replies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    waiting: dict[str, tuple[str, asyncio.Future]] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        token, _, method = request.match_info["path"].partition("/")
        if token != f"bot{TOKEN}":
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        body = await request.json()
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": "1",
                                                             "account_name": "bench"}})
        if method == "setWebhook":
            self.webhook, self.secret = body["url"], body["secret_token"]
            self.ready.set()
            return web.json_response({"ok": True, "result": {"url": body["url"]}})
        if method == "sendMessage":
            chat, text = body["chat_id"], body["text"]
            if not 1 <= len(text) <= 2000:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "text length"})
            self.replies[chat].append(text)
            expected = self.waiting.get(chat)
            if expected is not None and expected[0] in text and not expected[1].done():
                expected[1].set_result(time.perf_counter())
            return web.json_response({"ok": True, "result": {"message_id": "x",
                                                             "date": 0}})
        return web.json_response({"ok": True, "result": True})


def figures(spec: HeadSpec) -> dict:
    """What the head reports: last month's counts, nobody moved in or out of poverty (so no
    warning asks to confirm)."""
    return {**{k: spec.previous[k] for k in KEYS}, "exited": 0, "newly_poor": 0,
            "fallen_back": 0}


def dialog(spec: HeadSpec) -> list[tuple[str, str]]:
    """(what the head types, what the bot's reply must say): a whole monthly report typed."""
    steps = [("/baocao", "(1/10) Tổng số hộ")]
    typed = figures(spec)
    for n, key in enumerate(KEYS, start=2):
        expect = f"({n}/10)" if n <= 10 else ""
        steps.append((str(typed[key]), expect))
    steps[-1] = (steps[-1][0], "(10/10) Ghi chú")
    steps.append(("bo qua", "1. Tổng số hộ: "))
    steps.append(("gui", f"Đã lưu báo cáo tháng {PERIOD[5:]}/{PERIOD[:4]}"))
    return steps


async def chat(spec: HeadSpec, zalo: FakeZalo, session: aiohttp.ClientSession,
               latencies: list[float], failures: list[str], sequence: list[int]) -> None:
    user = f"z{spec.sender}"
    for typed, expect in dialog(spec):
        sequence[0] += 1
        event = {"ok": True, "result": {"event_name": "message.text.received", "message": {
            "message_id": f"{user}-{sequence[0]}", "date": int(NOW.timestamp() * 1000),
            "text": typed, "chat": {"id": user, "chat_type": "PRIVATE"},
            "from": {"id": user, "display_name": f"Trưởng thôn {spec.index + 1}",
                     "is_bot": False}}}}
        arrived = asyncio.get_running_loop().create_future()
        zalo.waiting[user] = (expect, arrived)
        started = time.perf_counter()
        async with session.post(zalo.webhook, json=event,
                                headers={"X-Bot-Api-Secret-Token": zalo.secret}) as response:
            if response.status != 200:
                failures.append(f"{user}: webhook answered {response.status} to {typed!r}")
                return
        try:
            done = await asyncio.wait_for(arrived, 30)
        except TimeoutError:
            last = zalo.replies[user][-1:] or ["(nothing)"]
            failures.append(f"{user}: sent {typed!r}, expected {expect!r}, got {last[0]!r}")
            return
        latencies.append(done - started)


def verify(db_path: Path, specs: list[HeadSpec]) -> list[str]:
    problems = []
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute(
            "SELECT r.area_id, v.data FROM reports r JOIN report_versions v"
            " ON v.report_id = r.id AND v.version = r.version"
            " WHERE r.period = ? AND r.form = 'monthly_village'", (PERIOD,)).fetchall())
        waiting = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
    for spec in specs:
        data = rows.get(spec.village.id)
        saved = json.loads(data) if data else None
        if saved is None or any(saved[k] != v for k, v in figures(spec).items()):
            problems.append(f"village {spec.village.name}: saved {saved}")
    if waiting:
        problems.append(f"{waiting} event(s) left in the inbox")
    return problems


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-zalo-") as folder:
        db_path = Path(folder) / "bench.sqlite3"
        config = load_config(ROOT / "config.toml", env={})
        db = await Database.open(db_path, synchronous=config.db_synchronous)
        specs = await build_province(db, args.heads)
        async with db.write() as conn:
            await conn.execute("UPDATE identities SET channel = 'zalo',"
                               " external_id = 'z' || external_id, chat_id = 'z' || chat_id")
        await db.close()
        print(f"province: {args.heads} villages and heads on Zalo; "
              f"{args.concurrency} chat at once, {len(dialog(specs[0]))} events each")

        zalo = FakeZalo()
        app = web.Application()
        app.router.add_post("/{path:.*}", zalo.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        api_port = site._server.sockets[0].getsockname()[1]
        bot_port = free_port()
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.zalo", "--serve", str(db_path),
            f"http://127.0.0.1:{api_port}", str(bot_port),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            await asyncio.wait_for(zalo.ready.wait(), 60)
            latencies: list[float] = []
            failures: list[str] = []
            sequence = [0]
            places = asyncio.Semaphore(args.concurrency)
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def one(spec: HeadSpec) -> None:
                    async with places:
                        await chat(spec, zalo, session, latencies, failures, sequence)

                started = time.perf_counter()
                await asyncio.gather(*(one(spec) for spec in specs))
                elapsed = time.perf_counter() - started
        finally:
            bot.send_signal(signal.SIGTERM)
            out = (await asyncio.wait_for(bot.communicate(), 60))[0].decode()
            await runner.cleanup()
        print(out.strip().splitlines()[-1] if out.strip() else "bot: no output")
        problems = failures + verify(db_path, specs)
        if problems:
            for problem in problems[:20]:
                print("FAILED:", problem)
            print(f"{len(problems)} problem(s); no result")
            return 1
        events = len(latencies)
        per_s = events / elapsed
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        print(f"{events} events in {elapsed:.2f} s: {per_s:.0f} events/s "
              f"(goal ≥ {GOAL_EVENTS_PER_S}); latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"verified: {len(specs)} monthly reports saved as typed, inbox empty")
        print(json.dumps({"events_per_s": round(per_s, 1), "p99_ms": round(p99, 2)}))
        return 0


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the bot's webhook server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.zalo", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--heads", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a few heads (smoke test)")
    parser.add_argument("--profile", metavar="PATH",
                        help="cProfile the bot process into PATH (pstats format)")
    parser.add_argument("--serve", nargs=3, metavar=("DB", "API", "PORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        db_path, api, port = args.serve
        config = load_config(ROOT / "config.toml", env={})
        profile = os.environ.get("BENCH_ZALO_PROFILE")
        if profile:  # cProfile the bot process (python -m bench.zalo --profile PATH)
            import cProfile
            with cProfile.Profile() as profiler:
                run_loop(config, serve(config, db_path, api, int(port)))
            profiler.dump_stats(profile)
        else:  # on the loop the bot runs on (bot.event_loop)
            run_loop(config, serve(config, db_path, api, int(port)))
        return 0
    if args.profile:
        os.environ["BENCH_ZALO_PROFILE"] = args.profile
    if args.quick:
        args.heads, args.concurrency = 6, 3
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Reminders to 10,000 village heads through the real Telegram adapter, with a hard crash.

``python -m bench.reminders``: a province of 10,000 villages, each with a village head on
Telegram, none of whom has filed October's report. The calendar's D0 reminder is planned into
the outbox (one message per head), then a **separate dispatcher process** delivers it through
python-telegram-bot's real stack (``Application.bot`` with its rate limiter, ``HTTPXRequest``)
to a local fake Bot API server (``tests/fake_bot_api.py``, in this process), with the send
limit set to 30 messages/s. Half-way the fake server kills the dispatcher process with SIGKILL
while a request is on its way (that request is lost, as on a real crash), and a new dispatcher
process is started on the same database, as a supervisor would.

Measured at the fake server: every message it accepted, per chat. Printed last, as JSON:
``recipients``, ``rate_ratio`` (messages accepted ÷ seconds from the first to the last, over
the configured limit; the restart is inside that time), ``duplicates`` (messages beyond the
first to a chat), ``missing`` (heads who got nothing), ``seconds`` (first to last message).
Goals: ``rate_ratio`` ≥ 0.95, ``duplicates`` = 0, ``missing`` = 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

from bench.common import NOW, build_province
from common.config import load_config, replace
from scheduler.planner import PLANNED_UNTIL, Planner
from storage import outbox, people
from storage.audit import Actor
from storage.db import Database
from storage.meta import set_meta

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-token-never-logged"
GOAL_RATE_RATIO, GOAL_DUPLICATES, GOAL_MISSING = 0.95, 0, 0


def bench_config(base_url: str, rate: float):
    """The shipped configuration with the fake server, the send limit, no quiet hours (the
    benchmark runs at any hour)."""
    config = load_config(ROOT / "config.toml", env={})
    telegram = replace(config.telegram, token=TOKEN, base_url=base_url,
                       base_file_url=base_url.replace("/bot", "/file/bot"),
                       overall_max_rate=rate)
    calendar = replace(config.calendar, quiet_start=clock_time(0, 0),
                       quiet_end=clock_time(0, 0))
    return replace(config, telegram=telegram, calendar=calendar, log_level="WARNING")


# ---- the dispatcher process ---------------------------------------------------------------


async def child(db_path: str, base_url: str, rate: float) -> int:
    """Deliver the outbox through the Telegram adapter until nothing is left, then exit."""
    from bot.app import setup_logging
    from bot.channels.telegram import TelegramSender, build_application
    from handlers.core import Core
    from scheduler.dispatcher import Dispatcher

    config = bench_config(base_url, rate)
    setup_logging(config)
    db = await Database.open(db_path)
    try:
        application = build_application(config, Core(db, config))
        async with application:
            dispatcher = Dispatcher(db, config,
                                    {"telegram": TelegramSender(application.bot, config)})
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run(stop))
            while not task.done():
                await asyncio.sleep(0.5)
                async with db.read() as conn:
                    counts = await outbox.campaign_counts(conn, 1)
                if counts["pending"] + counts["sending"] == 0:
                    stop.set()
            await task
    finally:
        await db.close()
    return 0


# ---- the benchmark ------------------------------------------------------------------------


async def prepare(db_path: Path, recipients: int) -> None:
    """The province, every head on Telegram, and the D0 reminder of October planned."""
    config = load_config(ROOT / "config.toml", env={})
    db = await Database.open(db_path)
    try:
        started = time.perf_counter()
        specs = await build_province(db, recipients)
        async with db.write() as conn:
            for spec in specs:
                await people.link_identity(
                    conn, spec.person_id, channel="telegram", external_id=str(spec.index + 1),
                    chat_id=str(spec.index + 1), display_name="", actor=Actor(None, "bench"),
                    at=NOW)
            # The bot ran until just before 08:00 on 5 November: D0 of October is now due.
            await set_meta(conn, PLANNED_UNTIL,
                           datetime(2026, 11, 5, 0, 59, tzinfo=UTC).isoformat())
        planner = Planner(db, replace(config, calendar=replace(
            config.calendar, quiet_start=clock_time(0, 0), quiet_end=clock_time(0, 0))),
            lambda: NOW)
        planned = await planner.tick()
        async with db.read() as conn:
            counts = await outbox.campaign_counts(conn, planned[0])
        print(f"built {recipients} villages and heads on Telegram, planned "
              f"{counts['pending']} reminders in {time.perf_counter() - started:.1f} s")
    finally:
        await db.close()


async def run(args: argparse.Namespace) -> int:
    from tests.fake_bot_api import FakeBotApi

    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as folder:
        db_path = Path(folder) / "bench.sqlite3"
        await prepare(db_path, args.recipients)
        async with FakeBotApi() as api:
            state = {"process": None, "killed_at": None}

            def crash(call):
                if (call.method == "sendMessage" and state["killed_at"] is None
                        and len(api.sent()) > args.crash_at):
                    state["process"].kill()  # SIGKILL: no clean-up, nothing more written
                    state["killed_at"] = time.monotonic()
                    return api.error(call, 502, "Bad Gateway")  # this request is lost
                return None

            api.intercept = crash if args.crash_at else None
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            command = [sys.executable, "-m", "bench.reminders", "--child", str(db_path),
                       api.base_url, str(args.rate)]
            runs = 0
            started = time.monotonic()
            while True:
                runs += 1
                state["process"] = await asyncio.create_subprocess_exec(*command, env=env,
                                                                        cwd=ROOT)
                status = await state["process"].wait()
                if status == 0:
                    break
                if runs >= 3 or status != -9:
                    print(f"FAILED: the dispatcher process ended with status {status}",
                          file=sys.stderr)
                    return 1
                print(f"dispatcher process killed after {len(api.sent())} messages "
                      f"({time.monotonic() - started:.1f} s); starting a new one")
            wall = time.monotonic() - started
            sent = api.sent()

    per_chat = Counter(str(c.chat_id) for c in sent)
    duplicates = sum(n - 1 for n in per_chat.values())
    missing = args.recipients - len(per_chat)
    seconds = sent[-1].at - sent[0].at if len(sent) > 1 else 0.0
    rate = (len(sent) - 1) / seconds if seconds else 0.0
    lost = sum(1 for c in api.calls_to("sendMessage") if c.error)
    print(f"{len(sent)} messages accepted by the fake Bot API ({lost} lost in the crash), "
          f"{len(per_chat)} chats, {runs} dispatcher processes, {wall:.1f} s in all")
    print(f"first to last message {seconds:.1f} s: {rate:.2f} messages/s for a limit of "
          f"{args.rate:g}/s; duplicates {duplicates}, missing {missing}")
    result = {"recipients": args.recipients, "rate_ratio": round(rate / args.rate, 3),
              "duplicates": duplicates, "missing": missing, "seconds": round(seconds, 1)}
    ok = (result["rate_ratio"] >= GOAL_RATE_RATIO and duplicates == GOAL_DUPLICATES
          and missing == GOAL_MISSING)
    print(f"goals rate_ratio >= {GOAL_RATE_RATIO}, duplicates = 0, missing = 0: "
          f"{'met' if ok else 'NOT met'}")
    print(json.dumps(result))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="send limit, messages/s")
    parser.add_argument("--crash-at", type=int, default=None,
                        help="kill the dispatcher after this many messages (default: half; "
                        "0: no crash)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 60 recipients at 200/s, crash after 30")
    parser.add_argument("--child", nargs=3, metavar=("DB", "BASE_URL", "RATE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.recipients, args.rate = 60, 200.0
    if args.crash_at is None:
        args.crash_at = args.recipients // 2
    if args.recipients < 1 or args.rate <= 0:
        parser.error("--recipients and --rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        db_path, base_url, rate = args.child
        return asyncio.run(child(db_path, base_url, float(rate)))
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

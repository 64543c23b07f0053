"""Spreadsheets and the event loop: an officer asks for a big sheet while a village head chats.

    python -m bench.sheets                     # the large demo's province: 2,652 households
    python -m bench.sheets --households 30000  # more households, added to its villages first
    python -m bench.sheets --kind monthly      # another sheet (monthly, summary, …)

Builds the large demo (``bot.demo``, as on 5 November 2026, 09:00 in Vietnam) in a temporary
folder, starts the chart processes (``--workers``, default 1) and tunes the runtime as the
bot does (``bot.app.tune_runtime``), then, through ``Core.handle`` as the console would:

* the province officer opens ``/thongke`` and asks for the sheet (``--kind``, default the
  household list): ``document_ms`` is the time from the request to the reply with the file;
* meanwhile the event loop is probed every 5 ms: ``max_lag_ms`` is the longest it was late,
  i.e. the longest time no other chat could have been answered;
* 50 ms after the request the featured village head sends ``/toi``: ``head_reply_ms`` is how
  long the answer took, from the moment it was due (a blocked loop delays its start too).

The last line printed is one JSON object of those figures and the number of households.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.core import ms
from bot import demo
from bot.app import tune_runtime
from common.config import load_config, replace
from common.messages import Inbound
from handlers.core import Core
from storage import areas, people
from storage import households as hh
from storage.audit import Actor
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 5)
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
PROBE_S = 0.005


async def _add_households(db: Database, wanted: int) -> int:
    """Add households to the demo's villages until the province has ``wanted``."""
    async with db.read() as conn:
        async with conn.execute("SELECT count(*) FROM households") as cur:
            (have,) = await cur.fetchone()
        villages = await areas.subtree(conn, None, level="village")
    rng = random.Random(7)
    per_village = max(0, wanted - have) // len(villages) + 1
    added = 0
    async with db.write() as conn:
        for village in villages:
            if have + added >= wanted:
                break
            batch = [hh.NewHousehold(f"BX-{village.id}-{n:05d}", f"Chủ hộ {n}",
                                     rng.choice(("poor", "near_poor", "average", "average")),
                                     rng.random() < 0.8, False, False, rng.random() < 0.3)
                     for n in range(min(per_village, wanted - have - added))]
            await hh.add_households(conn, village.id, batch, status_since=date(2025, 1, 1),
                                    actor=Actor(None, "bench"), at=NOW)
            added += len(batch)
    return have + added


async def _identity(db: Database, person_id: int) -> str:
    async with db.read() as conn:
        return (await people.identities_of(conn, person_id))[0]["external_id"]


async def run(kind: str, households: int | None, workers: int) -> dict:
    config = load_config(ROOT / "config.toml", env={})
    config = replace(config, stats=replace(config.stats, chart_workers=workers))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-large.sqlite3"
        await demo.build_demo(path, config, TODAY, size="large")
        db = await Database.open(path)
        core = Core(db, config, clock=lambda: NOW)
        try:
            count = (await _add_households(db, households) if households else None)
            async with db.read() as conn:
                personas = await demo.demo_personas(conn)
                async with conn.execute("SELECT count(*) FROM households") as cur:
                    (count,) = await cur.fetchone()
            officer = await _identity(db, personas["province_officer"])
            head = await _identity(db, personas["village_head"])
            await core.stats.renderer.start()
            tune_runtime()  # as the bot does at start-up (bot/app.py)
            serial = iter(range(1, 1_000_000))

            def message(sender: str, text: str = "", option: str | None = None) -> Inbound:
                return Inbound("console", sender, sender, f"bench-{next(serial)}", text,
                               option, received_at=NOW,
                               kind="option" if option else "text")

            menu = await core.handle(message(officer, "/thongke"))
            (choice,) = [o.data for r in menu for o in r.options
                         if o.data.endswith(f".sheet:{kind}")]
            await core.handle(message(head, "/toi"))  # warm: the head's person is cached
            lags: list[float] = []
            stop = asyncio.Event()

            async def probe() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    await asyncio.sleep(PROBE_S)
                    lags.append(time.perf_counter() - started - PROBE_S)

            async def officer_asks() -> tuple[float, bool]:
                started = time.perf_counter()
                replies = await core.handle(message(officer, option=choice))
                return time.perf_counter() - started, any(r.document for r in replies)

            async def head_asks(due: float) -> float:
                """From when the message was due (a blocked loop delays its start too)."""
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await core.handle(message(head, "/toi"))
                return time.perf_counter() - due

            prober = asyncio.create_task(probe())
            await asyncio.sleep(0.05)
            due = time.perf_counter() + 0.05
            (document_s, sent), head_s = await asyncio.gather(officer_asks(), head_asks(due))
            stop.set()
            await prober
            if not sent:
                print(f"no {kind} sheet was sent", file=sys.stderr)
                raise SystemExit(1)
        finally:
            core.close()
            await db.close()
    return {"kind": kind, "households": count, "document_ms": ms(document_s),
            "max_lag_ms": ms(max(lags)), "head_reply_ms": ms(head_s)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", default="households",
                        choices=("monthly", "summary", "households", "registrations"))
    parser.add_argument("--households", type=int, default=None,
                        help="households in the province (added to the demo's villages)")
    parser.add_argument("--workers", type=int, default=1, help="chart/sheet processes")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.kind, args.households, args.workers))
    print(f"{result['kind']} sheet of {result['households']} households: document in "
          f"{result['document_ms']} ms; event loop late by up to {result['max_lag_ms']} ms; "
          f"a village head's /toi answered in {result['head_reply_ms']} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The quiet faults a deployment meets, all at once, through the real process.

    python -m bench.faults            # 2,000 recipients, 200 heads filing (~3 min)
    python -m bench.faults --quick    # a few of each (the smoke test, ~30 s)

The bot runs as in production: ``python -m bot`` in a child process, with Telegram (polling)
and Zalo (webhook) both on, its own SQLite file in WAL mode, its calendar, outbox and
dispatcher. This process is Telegram and Zalo: the local fake Bot API
(``tests/fake_bot_api.py``) and fake Zalo Bot API (``tests/fake_zalo_api.py``), which record
every call, and the people who write to the bot through them.

1. A province officer, on Telegram, announces with ``/thongbao`` to a district of 2,000
   people: 40 communes of 49 village heads and the commune's officer. Officers use Telegram;
   the heads of the first commune alternate between Telegram and Zalo, those of the next 19
   use Telegram, of the last 20 Zalo (the outbox goes in the order people were enrolled, so
   each messenger's part goes out in a block, as a broadcast on one messenger does).
2. While it goes out the messengers misbehave: **40 recipients blocked the bot** (20 on each,
   all in the first commune, so their officer's alert is the issue's case); **13 sends are
   refused with 429** (7 on Telegram «retry after R», 6 on Zalo «Quota exceeded», spread over
   the broadcast; R is ``--retry-after``, also the bot's ``zalo.throttle_retry_seconds``);
   every send of that token arriving inside such a window is refused too and counted as a
   leak; **8 Zalo sends in a row hang** (never answered; nothing delivered, unless
   ``--hung-delivered N``: the first N were delivered and only their answers hang).
3. A little into the broadcast **200 village heads of another district file their monthly
   report on Zalo** (webhook, a typed dialog), and **5 % of the bot's replies to them are
   lost once** (the connection drops before Zalo takes the message; ``--reply-fault 502``
   answers HTTP 502 instead). Each head behaves as a person: answers the question the last
   reply asks («(3/10) …»), and when no reply comes within ``--patience`` seconds types the
   same answer again; after the same unhelpful reply three times it gives up. A webhook
   that does not answer 200 is posted again a second later, as Zalo redelivers.
4. Further in, **another process locks the database for 12 s** (``BEGIN IMMEDIATE``, longer
   than the bot's 5 s ``busy_timeout``), as a large import does.

The run ends when every recipient not blocked has the announcement and the officer's alert
has come and every head is done, or when nothing has been delivered for ``--idle`` seconds
after the lock, or after ``--max-seconds``. Then the bot gets SIGTERM and the figures are read
from the fakes' records and the database. Printed last, as JSON:

* ``delivered_once``: recipients who got the announcement exactly once (goal 2,000 − 40);
  ``duplicates``: deliveries beyond the first (goal 0); ``missing``: recipients not blocked
  who got nothing (goal 0);
* ``stall_s``: the longest time between two deliveries of the announcement (on either
  messenger) while it was going out (until all but 3 % of the recipients and the hung sends
  had it; until the end of the run when they never did), not counting the time the database
  was locked (goal ≤ 2 × R);
* ``misfiled_fields``: figures of the heads' saved reports that differ from what they meant
  (goal 0); ``heads_saved`` how many saved a report at all;
* ``officer_alerts``: the most alerts «⚠️ Bot không gửi được …» one officer got for the
  campaign (goal ≤ 1);
* ``leaked_after_429``: sends that arrived inside a 429's window, later than 50 ms after the
  refusal (those earlier were already on their way) (goal 0); ``seconds``: the run.

The bot's log (warnings and errors) is kept in the run's folder; the count of its errors and
the last one are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common.catalogue import t
from scheduler.planner import PLANNED_UNTIL
from storage import areas, people
from storage.audit import Actor
from storage.db import Database
from storage.meta import set_meta

ROOT = Path(__file__).resolve().parent.parent
TG_TOKEN = "123456:BENCH-faults-token"
ZALO_TOKEN = "bench-faults-zalo-token"
SECRET = "bench-faults-webhook-secret"
SETUP = Actor(None, "bench:setup")
DISTRICT, OTHER_DISTRICT = "Huyện Sơn Động", "Huyện Yên Thế"
ANNOUNCEMENT = "Họp dân toàn huyện lúc 8 giờ sáng thứ Hai tại nhà văn hoá xã."
PROVINCE_OFFICER = 9000  # Telegram user id
ALERT = t("outbox.unreachable.title", n=0).split("0")[0]  # «⚠️ Bot không gửi được tin nhắn tới »
SUMMARY = t("form.summary_confirm")
SAVED = "Đã lưu báo cáo tháng"
QUESTION = re.compile(r"\((\d+)/10\)")
KEYS = ("total", "poor", "near_poor", "exited", "newly_poor", "fallen_back", "em_poor",
        "loans", "support_vnd")
IN_FLIGHT = 0.05  # seconds after a 429 within which a send was already on its way
MAX_STEPS = 40  # messages a head sends before giving up


@dataclass
class Plan:
    communes: int = 40
    villages: int = 49  # per commune; recipients = communes × (villages + 1)
    blocked: int = 40
    hung: int = 8
    tg_429: int = 7
    zalo_429: int = 6
    retry_after: int = 3
    lock_seconds: float = 12.0
    lock_at: int = 500  # broadcast sends before the lock
    heads: int = 200
    heads_at: int = 100  # broadcast sends before the heads start
    reply_failures: float = 0.05
    reply_fault: str = "drop"
    patience: float = 30.0
    zalo_timeout: float = 15.0  # the shipped zalo.request_timeout
    hung_delivered: int = 0
    log: str | None = None  # where to keep the bot's log
    idle: float = 45.0
    max_seconds: float = 480.0

    @property
    def recipients(self) -> int:
        return self.communes * (self.villages + 1)


QUICK = dict(communes=4, villages=9, blocked=4, hung=2, tg_429=2, zalo_429=1, retry_after=1,
             lock_seconds=2.0, lock_at=12, heads=6, heads_at=4, reply_failures=0.2,
             patience=6.0, zalo_timeout=2.0, idle=15.0, max_seconds=120.0)


@dataclass(frozen=True)
class Recipient:
    channel: str
    chat: str
    blocked: bool
    officer_of: str | None = None  # the commune, for a commune officer


@dataclass
class HeadPlan:
    index: int
    chat: str
    village_id: int
    figures: dict

    def answer(self, field: int) -> str:
        return "bo qua" if field == 10 else str(self.figures[KEYS[field - 1]])


@dataclass
class World:
    recipients: dict[tuple[str, str], Recipient]
    heads: list[HeadPlan]
    officers: list[str]  # commune officers' Telegram chats


# ---- the province -------------------------------------------------------------------------


def _figures(rng: random.Random) -> dict:
    total = rng.randint(120, 400)
    poor = rng.randint(10, total // 4)
    near = rng.randint(5, total // 5)
    return {"total": total, "poor": poor, "near_poor": near, "exited": 0, "newly_poor": 0,
            "fallen_back": 0, "em_poor": rng.randint(0, poor), "loans": rng.randint(0, poor),
            "support_vnd": rng.choice((0, 1_500_000, 3_000_000))}


async def prepare(db_path: Path, plan: Plan) -> World:
    """The two districts, everyone's messenger, and the calendar planned ahead (so that no
    reminder of the real date joins in)."""
    rng = random.Random(12)
    at = datetime.now(UTC)
    db = await Database.open(db_path)
    recipients: dict[tuple[str, str], Recipient] = {}
    officers: list[str] = []
    heads: list[HeadPlan] = []

    async def person(conn, name, role, area, channel, chat):
        pid = await people.create_person(conn, name, actor=SETUP, at=at)
        await people.link_identity(conn, pid, channel=channel, external_id=chat, chat_id=chat,
                                   display_name=name, actor=SETUP, at=at)
        await people.grant_role(conn, pid, role, area, actor=SETUP, at=at)

    try:
        async with db.write() as conn:
            province = await areas.add_area(conn, parent=None, level="province",
                                            name="Tỉnh Thử Nghiệm", code="99", actor=SETUP,
                                            at=at)
            await person(conn, "Cán bộ tỉnh", "officer", province, "telegram",
                         str(PROVINCE_OFFICER))
            district = await areas.add_area(conn, parent=province, level="district",
                                            name=DISTRICT, code="991", actor=SETUP, at=at)
            other = await areas.add_area(conn, parent=province, level="district",
                                         name=OTHER_DISTRICT, code="992", actor=SETUP, at=at)
            n = 0
            for c in range(plan.communes):
                commune = await areas.add_area(conn, parent=district, level="commune",
                                               name=f"Xã Số {c + 1:02d}", code=f"9{c:04d}",
                                               actor=SETUP, at=at)
                chat = str(8000 + c)
                await person(conn, f"Cán bộ xã {c + 1:02d}", "officer", commune, "telegram",
                             chat)
                recipients[("telegram", chat)] = Recipient("telegram", chat, False,
                                                           commune.name)
                officers.append(chat)
                for v in range(plan.villages):
                    village = await areas.add_area(conn, parent=commune, level="village",
                                                   name=f"Thôn {c + 1:02d}-{v + 1:02d}",
                                                   actor=SETUP, at=at)
                    if c == 0:
                        channel = "telegram" if n % 2 == 0 else "zalo"
                    else:
                        channel = "telegram" if c < plan.communes // 2 else "zalo"
                    chat = str(100_000 + n) if channel == "telegram" else f"zr{n}"
                    await person(conn, f"Trưởng thôn {c + 1:02d}-{v + 1:02d}", "village_head",
                                 village, channel, chat)
                    recipients[(channel, chat)] = Recipient(channel, chat,
                                                            c == 0 and v < plan.blocked)
                    n += 1
            commune = None
            for h in range(plan.heads):
                if h % 40 == 0:
                    commune = await areas.add_area(conn, parent=other, level="commune",
                                                   name=f"Xã Yên {h // 40 + 1:02d}",
                                                   code=f"8{h // 40:04d}", actor=SETUP, at=at)
                village = await areas.add_area(conn, parent=commune, level="village",
                                               name=f"Bản {h + 1:03d}", actor=SETUP, at=at)
                chat = f"zh{h}"
                await person(conn, f"Trưởng bản {h + 1:03d}", "village_head", village, "zalo",
                             chat)
                heads.append(HeadPlan(h, chat, village.id, _figures(rng)))
            await set_meta(conn, PLANNED_UNTIL, (at + timedelta(days=3)).isoformat())
    finally:
        await db.close()
    return World(recipients, heads, officers)


def write_config(folder: Path, plan: Plan, tg_url: str, zalo_url: str, port: int) -> Path:
    """The bot's config file: the fakes' addresses, no quiet hours (the benchmark runs at any
    hour), no chart processes; every other setting as shipped."""
    path = folder / "config.toml"
    path.write_text(f"""
[bot]
log_level = "WARNING"
[telegram]
base_url = "{tg_url}/bot"
base_file_url = "{tg_url}/file/bot"
poll_timeout = 2
[zalo]
base_url = "{zalo_url}"
mode = "webhook"
listen_host = "127.0.0.1"
listen_port = {port}
public_base_url = "http://127.0.0.1:{port}"
throttle_retry_seconds = {plan.retry_after}
request_timeout = {plan.zalo_timeout}
[calendar]
quiet_start = "00:00"
quiet_end = "00:00"
[stats]
chart_workers = 0
""", encoding="utf-8")
    return path


# ---- the messengers' faults ---------------------------------------------------------------


def _spread(count: int, among: int, offset: float = 0.0) -> set[int]:
    """``count`` send numbers spread evenly over ``among`` sends."""
    return {max(1, round((k + 1 + offset) * among / (count + 1))) for k in range(count)}


class Faults:
    """What the fakes do to each send, and what they saw."""

    def __init__(self, plan: Plan, world: World, tg, zalo):
        from tests.fake_zalo_api import DROP

        self.plan, self.world, self.tg, self.zalo, self.drop = plan, world, tg, zalo, DROP
        per = Counter(r.channel for r in world.recipients.values())
        self.count = {"telegram": 0, "zalo": 0}  # announcement sends that arrived
        self.refuse_at = {"telegram": _spread(plan.tg_429, per["telegram"]),
                          "zalo": _spread(plan.zalo_429, per["zalo"], 0.5)}
        start = max(1, int(per["zalo"] * 0.4))
        self.hang_at = set(range(start, start + plan.hung)) - self.refuse_at["zalo"]
        self.windows: dict[str, list[tuple[float, float]]] = {"telegram": [], "zalo": []}
        self.leaked = 0
        self.refusals = 0
        self.hung_delivered: list[tuple[str, float]] = []
        self.heads = {h.chat: h for h in world.heads}
        self.head_calls: dict[str, list] = defaultdict(list)
        self.tried: set[tuple[str, str]] = set()
        self.replies_lost = 0
        self.rng = random.Random(5)

    def _window(self, channel: str, now: float) -> float | None:
        """Seconds left of a 429 window ``now`` falls in; counts a leak past IN_FLIGHT."""
        for start, end in self.windows[channel]:
            if start <= now < end:
                if now >= start + IN_FLIGHT:
                    self.leaked += 1
                return end - now
        return None

    def _refuse(self, channel: str, now: float) -> None:
        self.refusals += 1
        self.windows[channel].append((now, now + self.plan.retry_after))

    def on_telegram(self, call):
        if call.method != "sendMessage":
            return None
        left = self._window("telegram", call.at)
        if left is not None:
            wait = math.ceil(left)
            return self.tg.error(call, 429, f"Too Many Requests: retry after {wait}",
                                 retry_after=wait)
        who = self.world.recipients.get(("telegram", str(call.chat_id)))
        if who is None or ANNOUNCEMENT not in call.text:
            return None
        self.count["telegram"] += 1
        if who.blocked:
            return self.tg.error(call, 403, "Forbidden: bot was blocked by the user")
        if self.count["telegram"] in self.refuse_at["telegram"]:
            self._refuse("telegram", call.at)
            return self.tg.error(call, 429, f"Too Many Requests: retry after "
                                 f"{self.plan.retry_after}", retry_after=self.plan.retry_after)
        return None

    def on_zalo(self, call):
        if call.method != "sendMessage":
            return None
        chat = str(call.chat_id)
        if self._window("zalo", call.at) is not None:
            return 429, {"ok": False, "error_code": 429, "description": "Quota exceeded"}
        who = self.world.recipients.get(("zalo", chat))
        if who is not None and ANNOUNCEMENT in call.text:
            self.count["zalo"] += 1
            n = self.count["zalo"]
            if who.blocked:
                return 403, {"ok": False, "error_code": 403,
                             "description": "User has blocked the bot"}
            if n in self.refuse_at["zalo"]:
                self._refuse("zalo", call.at)
                return 429, {"ok": False, "error_code": 429, "description": "Quota exceeded"}
            if n in self.hang_at:
                if len(self.hung_delivered) < self.plan.hung_delivered:
                    self.hung_delivered.append((chat, call.at))  # delivered; answer lost
                return asyncio.Event().wait()  # never answered
            return None
        if chat in self.heads:
            self.head_calls[chat].append(call)
            key = (chat, call.text)
            if key not in self.tried:
                self.tried.add(key)
                if self.rng.random() < self.plan.reply_failures:
                    self.replies_lost += 1
                    if self.plan.reply_fault == "502":
                        return 502, {"ok": False, "error_code": 502,
                                     "description": "Bad Gateway"}
                    return self.drop
        return None


# ---- people -------------------------------------------------------------------------------


@dataclass
class Head:
    """A village head filing the month's report on Zalo, as a person does."""

    plan: HeadPlan
    faults: Faults
    zalo: object
    patience: float
    saved: bool = False
    retyped: int = 0
    steps: int = 0
    webhook_retries: int = 0
    sequence: int = 0
    log: list[str] = field(default_factory=list)

    async def post(self, text: str) -> None:
        from tests.fake_zalo_api import text_event

        self.sequence += 1
        event = text_event(text, user_id=self.plan.chat, display_name=f"Trưởng bản "
                           f"{self.plan.index + 1:03d}",
                           message_id=f"{self.plan.chat}-{self.sequence}")
        for _ in range(60):  # Zalo posts an event again until the webhook answers 200
            try:
                status, _ = await self.zalo.post_webhook(event)
            except Exception:  # noqa: BLE001  (a connection refused while the bot is busy)
                status = 0
            if status == 200:
                return
            self.webhook_retries += 1
            await asyncio.sleep(1)

    async def say(self, text: str) -> str | None:
        """Type ``text``; the bot's reply, or None when none came within the patience."""
        calls = self.faults.head_calls[self.plan.chat]
        mark = len(calls)
        await self.post(text)
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            answered = [c for c in calls[mark:] if c.done and c.ok]
            if answered:
                await asyncio.sleep(0.05)  # the rest of the reply, if it came in pieces
                return "\n".join(c.text for c in calls[mark:] if c.done and c.ok)
            await asyncio.sleep(0.05)
        return None

    async def file(self) -> None:
        text = "/baocao"
        while self.steps < MAX_STEPS:
            self.steps += 1
            reply = await self.say(text)
            if reply is None:
                self.retyped += 1  # nothing came: the same answer again
                continue
            self.log.append(reply[:80])
            if len(self.log) >= 3 and len(set(self.log[-3:])) == 1 and SAVED not in reply:
                return  # the same answer three times: a person stops here and calls someone
            if SAVED in reply:
                self.saved = True
                return
            if SUMMARY in reply:
                text = "gui"
            elif found := QUESTION.findall(reply):
                text = self.plan.answer(int(found[-1]))
            elif "có chắc" in reply:
                text = "co"
            # anything else (an apology, a question not understood): the same again


# ---- running ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {seconds:g} s for {what}")
        await asyncio.sleep(0.05)


def texts_to(tg, chat: int) -> list[str]:
    return [c.text for c in tg.sent(chat)]


async def announce(tg, recipients: int) -> float:
    """The province officer's ``/thongbao`` on Telegram; when it was confirmed."""
    await tg.send_text(PROVINCE_OFFICER, f"/thongbao {DISTRICT}")
    await wait_for(lambda: any("Nội dung thông báo" in x
                               for x in texts_to(tg, PROVINCE_OFFICER)), 30, "the question")
    await tg.send_text(PROVINCE_OFFICER, ANNOUNCEMENT)
    preview = f"Sẽ gửi tới {recipients} người"
    await wait_for(lambda: any(preview in x for x in texts_to(tg, PROVINCE_OFFICER)), 30,
                   f"the preview ({preview})")
    await tg.press_button(PROVINCE_OFFICER, t("announce.option.send"))
    await wait_for(lambda: any("Đang gửi thông báo" in x
                               for x in texts_to(tg, PROVINCE_OFFICER)), 30, "the confirmation")
    return time.monotonic()


def hold_lock(db_path: Path, seconds: float, marks: dict) -> None:
    """Another process's write lock on the database for ``seconds``."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        marks["lock"] = (time.monotonic(), None)
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        marks["lock"] = (marks["lock"][0], time.monotonic())
    finally:
        conn.close()


def deliveries(tg, zalo, faults: Faults) -> list[tuple[str, str, float]]:
    """(messenger, chat, when) of every announcement the messengers took."""
    found = [("telegram", str(c.chat_id), c.at) for c in tg.calls
             if c.method == "sendMessage" and c.error is None and ANNOUNCEMENT in c.text]
    found += [("zalo", str(c.chat_id), c.at) for c in zalo.calls
              if c.method == "sendMessage" and c.ok and ANNOUNCEMENT in c.text]
    found += [("zalo", chat, at) for chat, at in faults.hung_delivered]
    return sorted(found, key=lambda d: d[2])


def stall(times: list[float], goal: int, end: float, lock: tuple[float, float] | None,
          hung: int = 0) -> tuple[float, float]:
    """The longest gap between deliveries until all but 3 % of ``goal`` and the ``hung``
    sends (whose retries wait for their time-out and back-off) had theirs, or until ``end``
    when they never did, without the time the database was locked; and when it began."""
    if not times:
        return end, end
    reached = max(1, math.floor(0.97 * goal) - hung)
    points = times[:reached] if len(times) >= reached else [*times, end]
    longest, at = 0.0, points[0]
    for a, b in zip(points, points[1:], strict=False):
        gap = b - a
        if lock is not None and lock[1] is not None:
            gap -= max(0.0, min(b, lock[1]) - max(a, lock[0]))
        if gap > longest:
            longest, at = gap, a
    return longest, at


def read_log(path: Path, keep: str | None) -> list[str]:
    """The bot's log lines (and a copy at ``keep``)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if keep:
        Path(keep).write_text(text, encoding="utf-8")
    return text.splitlines()


def misfiled(db_path: Path, world: World) -> tuple[int, int, list[str]]:
    """(figures saved other than meant, reports saved, examples)."""
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute(
            "SELECT r.area_id, v.data FROM reports r JOIN report_versions v"
            " ON v.report_id = r.id AND v.version = r.version"
            " WHERE r.form = 'monthly_village'").fetchall())
    wrong, saved, examples = 0, 0, []
    for head in world.heads:
        data = rows.get(head.village_id)
        if data is None:
            continue
        saved += 1
        stored = json.loads(data)
        for key in KEYS:
            if stored.get(key) != head.figures[key]:
                wrong += 1
                if len(examples) < 5:
                    examples.append(f"{head.chat} {key}: meant {head.figures[key]}, saved "
                                    f"{stored.get(key)}")
    return wrong, saved, examples


async def run(plan: Plan) -> int:
    from tests.fake_bot_api import FakeBotApi
    from tests.fake_zalo_api import FakeZaloApi

    with tempfile.TemporaryDirectory(prefix="bench-faults-") as folder:
        folder = Path(folder)
        db_path = folder / "bot.sqlite3"
        started = time.perf_counter()
        world = await prepare(db_path, plan)
        blocked = sum(r.blocked for r in world.recipients.values())
        print(f"built {plan.recipients} recipients in {DISTRICT} ({blocked} blocked the bot) "
              f"and {plan.heads} heads in {OTHER_DISTRICT} in "
              f"{time.perf_counter() - started:.1f} s")
        async with FakeBotApi(token=TG_TOKEN) as tg, FakeZaloApi(token=ZALO_TOKEN) as zalo:
            faults = Faults(plan, world, tg, zalo)
            tg.intercept, zalo.intercept = faults.on_telegram, faults.on_zalo
            config = write_config(folder, plan, f"http://127.0.0.1:{tg.port}", zalo.base_url,
                                  free_port())
            env = {**os.environ, "PYTHONPATH": str(ROOT), "GIAMNGHEO_CONFIG": str(config),
                   "GIAMNGHEO_DB": str(db_path), "GIAMNGHEO_TELEGRAM_TOKEN": TG_TOKEN,
                   "GIAMNGHEO_ZALO_TOKEN": ZALO_TOKEN, "GIAMNGHEO_ZALO_SECRET": SECRET}
            log_path = folder / "bot.log"
            with log_path.open("wb") as log:
                bot = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", cwd=ROOT, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=log)
                try:
                    figures = await drive(plan, world, faults, tg, zalo, db_path)
                finally:
                    if bot.returncode is None:
                        bot.send_signal(signal.SIGTERM)
                        try:
                            await asyncio.wait_for(bot.wait(), 30)
                        except TimeoutError:
                            bot.kill()
                            await bot.wait()
            lines = read_log(log_path, plan.log)
        wrong, saved, examples = misfiled(db_path, world) if db_path.exists() else (0, 0, [])
    errors = [x for x in lines if " ERROR " in x or " CRITICAL " in x]
    kinds = Counter(re.sub(r"\d+", "N", x.split(" ", 3)[-1])[:110] for x in errors)
    print(f"bot log: {len(lines)} lines, {len(errors)} errors"
          + "".join(f"\n  {n} × {kind}" for kind, n in kinds.most_common(6)))
    figures.update(misfiled_fields=wrong, heads_saved=saved)
    print(f"heads: {saved} of {plan.heads} saved a report; {wrong} figures saved other than "
          f"meant" + (f" (e.g. {'; '.join(examples)})" if examples else ""))
    goals = {"delivered_once": figures["delivered_once"] == plan.recipients - blocked,
             "duplicates": figures["duplicates"] == 0, "missing": figures["missing"] == 0,
             "stall_s": figures["stall_s"] <= 2 * plan.retry_after,
             "misfiled_fields": wrong == 0, "officer_alerts": figures["officer_alerts"] <= 1,
             "leaked_after_429": figures["leaked_after_429"] == 0}
    print("goals: " + ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in goals.items()))
    keys = ("recipients", "delivered_once", "duplicates", "missing", "stall_s",
            "misfiled_fields", "officer_alerts", "leaked_after_429", "heads_saved", "seconds")
    print(json.dumps({k: figures[k] for k in keys}))
    return 0


async def drive(plan: Plan, world: World, faults: Faults, tg, zalo, db_path: Path) -> dict:
    """Everything from the bot's start to the end of the run; the figures."""
    await wait_for(lambda: zalo.webhook_url and tg.calls_to("getUpdates"), 60,
                   "the bot to start (see its log)")
    marks: dict = {}
    began = await announce(tg, plan.recipients)
    print(f"the officer's announcement to {plan.recipients} people is confirmed; sending")
    heads = [Head(h, faults, zalo, plan.patience) for h in world.heads]
    tasks: list[asyncio.Task] = []
    lock: asyncio.Task | None = None
    alerts_seen_at = None
    goal = {c: sum(1 for r in world.recipients.values() if r.channel == c and not r.blocked)
            for c in ("telegram", "zalo")}
    last_count, last_progress = 0, time.monotonic()
    while True:
        await asyncio.sleep(0.25)
        now = time.monotonic()
        sent = sum(faults.count.values())
        if not tasks and sent >= plan.heads_at:
            tasks = [asyncio.create_task(h.file()) for h in heads]
            print(f"{now - began:5.1f} s: {len(heads)} heads start filing on Zalo")
        if lock is None and sent >= plan.lock_at:
            lock = asyncio.create_task(asyncio.to_thread(hold_lock, db_path,
                                                         plan.lock_seconds, marks))
            print(f"{now - began:5.1f} s: the database is locked for {plan.lock_seconds:g} s")
        got = deliveries(tg, zalo, faults)
        reached = {(c, chat) for c, chat, _ in got}
        if len(got) != last_count:
            last_count, last_progress = len(got), now
        complete = len(reached) >= goal["telegram"] + goal["zalo"]
        alerted = any(ALERT in x for chat in world.officers for x in texts_to(tg, int(chat)))
        if alerted and alerts_seen_at is None:
            alerts_seen_at = now
        heads_done = bool(tasks) and all(task.done() for task in tasks)
        locked_done = lock is not None and lock.done()
        if complete and heads_done and locked_done and (
                alerts_seen_at is not None and now - alerts_seen_at > 3):
            break
        if now - began > plan.max_seconds:
            print(f"{now - began:5.1f} s: the run's time is up")
            break
        if (locked_done and (heads_done or not tasks) and now - last_progress > plan.idle
                and (not complete or alerts_seen_at is None
                     or now - alerts_seen_at > plan.idle)):
            print(f"{now - began:5.1f} s: nothing delivered for {plan.idle:g} s; ending")
            break
    end = time.monotonic()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if lock is not None:
        await lock
    got = deliveries(tg, zalo, faults)
    per = Counter((c, chat) for c, chat, _ in got)
    not_blocked = [k for k, r in world.recipients.items() if not r.blocked]
    once = sum(1 for k in not_blocked if per[k] == 1)
    duplicates = sum(n - 1 for n in per.values() if n > 1)
    missing = sum(1 for k in not_blocked if per[k] == 0)
    lock_window = marks.get("lock")
    longest, stalled_at = stall([at for _, _, at in got], len(not_blocked), end, lock_window,
                                len(faults.hang_at))
    alerts = {chat: sum(ALERT in x for x in texts_to(tg, int(chat))) for chat in world.officers}
    told = [(chat, n) for chat, n in alerts.items() if n]
    lost = faults.replies_lost
    twice = [f"{c}:{chat}" for (c, chat), n in per.items() if n > 1]
    if twice:
        print(f"  sent more than once: {', '.join(twice[:6])}")
    print(f"announcement: {once} people once, {duplicates} duplicates, {missing} missing "
          f"(of {len(not_blocked)} not blocked); 429s {faults.refusals} injected, "
          f"{faults.leaked} sends leaked into their windows; {len(faults.hang_at)} sends hung")
    if lock_window and lock_window[1]:
        print(f"database locked {lock_window[1] - lock_window[0]:.1f} s, "
              f"from {lock_window[0] - began:.1f} s")
    print(f"longest stall: {longest:.1f} s, from {stalled_at - began:.1f} s "
          f"(goal ≤ {2 * plan.retry_after} s)")
    for head in [h for h in heads if not h.saved][:2]:
        print(f"  head {head.plan.chat} never saw its report saved ({head.steps} messages); "
              f"last replies: {' | '.join(head.log[-3:])!r}")
    print(f"officers alerted: {told or 'none'}; replies lost once: {lost}; heads retyped "
          f"{sum(h.retyped for h in heads)} answers, webhook posted again "
          f"{sum(h.webhook_retries for h in heads)} times")
    return {"recipients": plan.recipients, "delivered_once": once, "duplicates": duplicates,
            "missing": missing, "stall_s": round(longest, 1),
            "officer_alerts": max(alerts.values(), default=0),
            "leaked_after_429": faults.leaked, "seconds": round(end - began, 1)}


def parse_args(argv: list[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench.faults",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few of each (smoke test)")
    parser.add_argument("--retry-after", type=int, help="seconds of each 429 (default 3)")
    parser.add_argument("--patience", type=float,
                        help="seconds a head waits for a reply before typing again (30)")
    parser.add_argument("--reply-fault", choices=("drop", "502"),
                        help="how a lost reply fails: the connection drops (default), or 502")
    parser.add_argument("--hung-delivered", type=int,
                        help="of the hung sends, how many Zalo delivered (default 0)")
    parser.add_argument("--heads", type=int, help="village heads filing (200)")
    parser.add_argument("--max-seconds", type=float, help="the run's limit (480)")
    parser.add_argument("--log", metavar="FILE", help="keep the bot's log there")
    args = parser.parse_args(argv)
    plan = Plan(**(QUICK if args.quick else {}))
    for name in ("retry_after", "patience", "reply_fault", "hung_delivered", "heads",
                 "max_seconds", "log"):
        value = getattr(args, name)
        if value is not None:
            setattr(plan, name, value)
    return plan


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

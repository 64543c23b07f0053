"""Walkthroughs: every role tries every command of its ``/help`` and every option the replies
offer (tests/walker.py), on the demo database and on the large demo (household lists, 117
villages), through the core, the real python-telegram-bot stack and Zalo.

A walk fails on a reply about «sự cố hệ thống», an ERROR logged, an option or a listed command
that leads nowhere, a dialog left open after its end, a reply that is no sentence, a file that
does not open, or a stored figure that breaks a rule of the form. Faults of issue 11 that other
work is fixing are recognised by ``KNOWN`` and each has its own strict xfail below: when the
fix lands it XPASSes, and its mark goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot import demo
from bot.channels.zalo import ZaloChannel
from common.config import load_config, replace
from common.text import fold
from handlers.core import Core
from handlers.menu import help_text
from storage import areas, people
from storage import households as hh
from storage.db import Database
from storage.query import fetch_all
from tests.conftest import ROOT, SETUP, Chat
from tests.fake_bot_api import FakeBotApi
from tests.fake_zalo_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fake_zalo_api import FakeZaloApi, text_event
from tests.test_telegram import TOKEN as TG_TOKEN
from tests.test_telegram import start_polling
from tests.test_zalo import free_port
from tests.walker import (
    CoreDriver,
    ErrorLog,
    Finding,
    Reply,
    Walk,
    Walker,
    help_starts,
    parse_plain,
    scope_names,
)

TODAY = date(2026, 11, 5)
ROLES = ("village_head", "commune_officer", "province_officer", "admin")
MONTHLY_KEYS = ("total", "poor", "near_poor", "exited", "newly_poor", "fallen_back",
                "em_poor", "loans", "support_vnd", "note")


def walk_config():
    config = load_config(ROOT / "config.toml", env={})
    return replace(config, stats=replace(config.stats, chart_workers=0))


# ---- what the stored data must always satisfy ----


async def invariant_problems(db: Database, since: str = "") -> list[str]:
    """Stored rows (written at or after ``since``, ISO time in UTC) that break a rule of the
    forms: current monthly figures (poor + near-poor ≤ total, DTTS poor ≤ poor, loans ≤ poor +
    near-poor, no negatives, every field present, the typed table equal to the current
    version), households with no code or name, registrations with an impossible year, more
    than one open registration of a household."""
    problems = []
    async with db.read() as conn:
        for row in await fetch_all(
                conn,
                "SELECT area_id, period, total, poor, near_poor, em_poor, loans, exited,"
                " newly_poor, fallen_back, support_vnd FROM village_monthly"
                " WHERE submitted_at >= ? AND (poor + near_poor > total OR em_poor > poor"
                " OR loans > poor + near_poor OR total < 1 OR min(poor, near_poor, em_poor,"
                " loans, exited, newly_poor, fallen_back, support_vnd) < 0)", (since,)):
            problems.append(f"monthly figures break a rule: {tuple(row)}")
        for row in await fetch_all(
                conn,
                "SELECT r.area_id, r.period, r.version, v.data, m.version, m.total, m.poor"
                " FROM reports r JOIN report_versions v ON v.report_id = r.id"
                " AND v.version = r.version"
                " LEFT JOIN village_monthly m ON m.area_id = r.area_id AND m.period = r.period"
                " WHERE r.form = 'monthly_village' AND r.updated_at >= ?", (since,)):
            import json

            data = json.loads(row[3])
            missing = [k for k in MONTHLY_KEYS if k not in data or (
                data[k] is None and k != "note")]
            if missing:
                problems.append(f"report {row[0]}/{row[1]} v{row[2]} lacks {missing}")
            if row[4] != row[2] or row[5] != data.get("total") or row[6] != data.get("poor"):
                problems.append(f"report {row[0]}/{row[1]}: village_monthly (v{row[4]}) is not "
                                f"the current version v{row[2]}")
        for row in await fetch_all(
                conn, "SELECT id, code, head_name FROM households WHERE updated_at >= ?"
                " AND (trim(code) = '' OR trim(head_name) = '')", (since,)):
            problems.append(f"household without a code or name: {tuple(row)}")
        for row in await fetch_all(
                conn, "SELECT id, target_year FROM exit_registrations WHERE state_at >= ?"
                " AND (target_year < 2020 OR target_year > 2100)", (since,)):
            problems.append(f"registration with an impossible year: {tuple(row)}")
        for row in await fetch_all(
                conn, "SELECT household_id, count(*) FROM exit_registrations"
                " WHERE state IN ('registered', 'under_review', 'not_yet')"
                " GROUP BY household_id HAVING count(*) > 1 AND max(state_at) >= ?",
                (since,)):
            problems.append(f"a household with several open registrations: {tuple(row)}")
    return problems


# ---- plausible answers to free-text questions ----


class Answers:
    """Plausible answers to a question, from its own words: the examples it gives (ví dụ: …),
    a household code of the person's area for a search, a new code and a name for a new
    household, an area name, then plain numbers and a sentence."""

    def __init__(self, codes: list[str], area_names: list[str]):
        self.codes, self.area_names = codes, area_names
        self.fresh = iter(range(1, 100_000))

    async def __call__(self, prompt: str) -> list[str]:
        last = prompt.strip().split("\n")[-1] if prompt.strip() else ""
        folded = fold(prompt)
        out: list[str] = []
        if "tim ho" in folded or "ten chu ho" in fold(last) and "ma ho" in fold(last):
            out += self.codes[:2]
        if "ma ho" in fold(last):
            out.append(f"WK-{next(self.fresh):03d}")
        for example in _examples(last):
            out.append(example)
        if "ho ten" in fold(last) or "ten chu ho" in fold(last):
            out.append("Nguyễn Văn Thử")
        if "thon" in fold(last) or "dia ban" in fold(last):
            out += self.area_names[:2]
        out += ["1", "0", "2", str(TODAY.year + 1), "hôm nay",
                "Họp thôn, vận động các hộ đăng ký thoát nghèo."]
        seen: list[str] = []
        return [a for a in out if not (a in seen or seen.append(a))]


def _examples(text: str) -> list[str]:
    """What a question gives as examples: ``(ví dụ: 5tr; …)`` → ``5tr``."""
    out = []
    folded = fold(text)
    start = 0
    while (i := folded.find("vi du:", start)) >= 0:
        chunk = text[i + len("ví dụ:"):]
        for stop in (";", ",", ")", " — ", " hoặc", "\n"):
            chunk = chunk.split(stop)[0]
        if chunk.strip():
            out.append(chunk.strip())
        start = i + 1
    return out


# ---- faults of issue 11 others are fixing ----


@dataclass(frozen=True)
class Known:
    reason: str
    match: Callable[[Finding], bool]


def _path_has(f: Finding, *words: str) -> bool:
    text = fold(" ".join(f.path))
    return all(fold(w) in text for w in words)


KNOWN: dict[str, Known] = {
    # Faults being fixed elsewhere, each with a strict xfail: none today. A walk fails on any
    # finding not listed here.
}


def known_of(finding: Finding) -> str | None:
    return next((key for key, known in KNOWN.items() if known.match(finding)), None)


# ---- running a walk ----


_walks: dict[tuple, Walk] = {}


async def persona(db: Database, kind: str):
    async with db.read() as conn:
        person_id = (await demo.demo_personas(conn))[kind]
        person = await people.get_person(conn, person_id)
        idents = await people.identities_of(conn, person_id)
    return person, idents[0]["external_id"]


async def household_codes(db: Database, person) -> list[str]:
    async with db.read() as conn:
        rows = []
        for scope in person.scopes():
            rows += await fetch_all(
                conn, "SELECT h.code FROM households h JOIN areas a ON a.id = h.village_id"
                " WHERE a.path LIKE ? ORDER BY h.id LIMIT 2", (scope.path + "%",))
    return [r[0] for r in rows]


async def starts_for(db: Database, config, person, clock) -> list[str]:
    """``/help``, then every command and keyword the person's help lists."""
    names = await scope_names(db, person)

    class _Ctx:  # what handlers.menu.help_text reads
        pass

    ctx = _Ctx()
    ctx.person, ctx.config = person, config
    return ["/help"] + help_starts(help_text(ctx).text, names)


async def walk_as(kind: str, source: Path, tmp_path: Path, clock, *, via: str = "core",
                  budget: int = 500, per_start: int = 60, per_shape: int = 4,
                  monkeypatch=None) -> Walk:
    """Walk as the demo persona ``kind`` on a copy of ``source``, through ``via``: the core
    (``core``; ``typed``: choosing by typing, as on the console), the real Telegram stack
    (``telegram``) or Zalo (``zalo``). Cached per test run."""
    key = (kind, source, via)
    if key in _walks:
        return _walks[key]
    path = tmp_path / f"walk-{kind}-{via}.sqlite3"
    shutil.copyfile(source, path)
    config = walk_config()
    db = await Database.open(path)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        if kind == "stranger":  # someone with an invite code, who has never written before
            person, sender = None, "stranger-1"
            async with db.read() as conn:
                invite = (await demo.demo_meta(conn))["demo.invite"]
            starts, answers = ["xin chào", "/help", invite], Answers([], [])
        else:
            person, sender = await persona(db, kind)
            starts = await starts_for(db, config, person, clock)
            answers = Answers(await household_codes(db, person),
                              (await scope_names(db, person))["dia ban"])
        async with channel_driver(via, db, config, clock, person, sender,
                                  monkeypatch) as driver:
            walker = Walker(driver, db, errors, budget=budget, per_start=per_start,
                            per_shape=per_shape, answers=answers)
            walk = await walker.run(starts)
        for problem in await invariant_problems(db):
            walk.findings.append(Finding("data", ("(after the walk)",), "", "", problem))
    finally:
        logging.getLogger().removeHandler(errors)
        await db.close()
    _walks[key] = walk
    return walk


@contextlib.asynccontextmanager
async def channel_driver(via: str, db: Database, config, clock, person, sender: str,
                         monkeypatch):
    name = person.full_name if person else "Vàng A Pử"
    if via in ("core", "typed", "labels"):
        core = Core(db, config, clock)
        try:
            yield CoreDriver(core, "console", sender, name,
                             typed={"core": "", "typed": "number", "labels": "label"}[via])
        finally:
            core.close()
        return
    user = "9001"
    if person is not None:
        async with db.write() as conn:
            await people.link_identity(conn, person.id, channel=via, external_id=user,
                                       chat_id=user, display_name=name, actor=SETUP,
                                       at=clock())
    if via == "telegram":
        async with FakeBotApi(clock) as api:
            telegram = replace(config.telegram, token=TG_TOKEN, base_url=api.base_url,
                               base_file_url=api.base_file_url, poll_timeout=1,
                               overall_max_rate=1000, concurrent_updates=8)
            tg_config = replace(config, telegram=telegram)
            core = Core(db, tg_config, clock)
            running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
            try:
                yield TelegramDriver(running, api, int(user))
            finally:
                stop.set()
                await asyncio.wait_for(task, 5)
                core.close()
        return
    async with FakeZaloApi() as api:
        port = free_port()
        zalo = replace(config.zalo, token=ZALO_TOKEN, webhook_secret="walk-secret",
                       base_url=api.base_url, mode="webhook", listen_host="127.0.0.1",
                       listen_port=port, public_base_url=f"http://127.0.0.1:{port}",
                       max_rate=1000, per_chat_interval=0)
        zalo_config = replace(config, zalo=zalo)
        core = Core(db, zalo_config, clock)
        channel = ZaloChannel(zalo_config, core, db)
        await channel.start()
        try:
            yield ZaloDriver(channel, api, clock, user, name)
        finally:
            await channel.stop()
            core.close()


class TelegramDriver:
    """A person on Telegram: messages and button presses through python-telegram-bot's real
    stack against the fake Bot API server."""

    channel = "telegram"

    def __init__(self, running, api: FakeBotApi, user_id: int):
        self.running, self.api, self.user_id = running, api, user_id
        self.sender = str(user_id)

    async def _after(self, inject) -> list[Reply]:
        mark = len(self.api.calls)
        await inject
        await self.running.settle()
        out = []
        for call in self.api.sent(self.user_id, since=mark):
            options = tuple((b["text"], b["callback_data"]) for b in call.buttons)
            image = call.files.get("photo", (None, None))[1]
            document = call.files.get("document", (None, None))[1]
            out.append(Reply(call.text, options, image, document))
        return out

    async def send(self, text: str) -> list[Reply]:
        return await self._after(self.api.send_text(self.user_id, text))

    async def choose(self, option: tuple[str, str], typed: bool) -> list[Reply]:
        return await self._after(self.api.press(self.user_id, option[1]))


class ZaloDriver:
    """A person on Zalo: events posted to the bot's webhook; options are read from the text
    (numbered lists, [shortcuts]) and chosen by typing."""

    channel = "zalo"

    def __init__(self, channel: ZaloChannel, api: FakeZaloApi, clock, user_id: str,
                 name: str):
        self.zalo, self.api, self.clock = channel, api, clock
        self.sender, self.name = user_id, name

    async def send(self, text: str) -> list[Reply]:
        mark = len(self.api.calls)
        status, _ = await self.api.post_webhook(text_event(
            text, user_id=self.sender, display_name=self.name,
            date_ms=int(self.clock().timestamp() * 1000)))
        await self.zalo.drain()
        assert status == 200
        out = []
        for call in self.api.calls[mark:]:
            if call.method not in ("sendMessage", "sendPhoto") or not call.ok or \
                    call.params.get("chat_id") != self.sender:
                continue
            body, options = parse_plain(call.text)
            image = b"\x89PNG\r\n\x1a\n" if call.method == "sendPhoto" else None
            out.append(Reply(body, options, image, typed=True))
        return out

    async def choose(self, option: tuple[str, str], typed: bool) -> list[Reply]:
        return await self.send(option[1])


def report(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings[:15]) + (
        f"\n… and {len(findings) - 15} more" if len(findings) > 15 else "")


# ---- the walks ----


def assert_clean(walk: Walk, *, steps: int = 30, nodes: int = 10) -> None:
    unknown = [f for f in walk.findings if known_of(f) is None]
    assert walk.steps > steps and len(walk.nodes) > nodes, "the walk went nowhere"
    assert not unknown, report(unknown)


@pytest.mark.parametrize("kind", ROLES)
async def test_walk_the_demo(kind, demo_file, tmp_path, clock):
    assert_clean(await walk_as(kind, demo_file, tmp_path, clock))


@pytest.mark.parametrize("kind", ROLES[:3])  # the admin's menus are the province officer's
async def test_walk_the_large_demo(kind, large_file, tmp_path, clock):
    # Three areas of each statistics menu (own, a village, a commune); other periods are
    # walked on the small demo, where each spreadsheet takes milliseconds, not a second.
    assert_clean(await walk_as(kind, large_file, tmp_path, clock, per_shape=3))


# ---- faults others are fixing: each XPASSes (and fails, strict) once fixed -----------------


def known_findings(walk: Walk, key: str) -> list[Finding]:
    return [f for f in walk.findings if known_of(f) == key]


async def test_walk_on_telegram(demo_file, tmp_path, clock, monkeypatch):
    assert_clean(await walk_as("village_head", demo_file, tmp_path, clock, via="telegram",
                               budget=150, monkeypatch=monkeypatch))


async def test_walk_on_zalo(demo_file, tmp_path, clock):
    assert_clean(await walk_as("commune_officer", demo_file, tmp_path, clock, via="zalo",
                               budget=150))


async def test_the_review_list_says_how_many_wait_and_reaches_every_item(large_file,
                                                                        tmp_path, clock):
    # The large demo's commune officer: dozens of registrations and assessments wait. The title
    # says how many of each; every item is reached page by page, each named with its village;
    # one tap shows the assessments alone (they come after the registrations).
    path = tmp_path / "review.sqlite3"
    shutil.copyfile(large_file, path)
    db = await Database.open(path)
    core = Core(db, walk_config(), clock)
    try:
        person, sender = await persona(db, "commune_officer")
        (scope,) = person.scopes()
        async with db.read() as conn:
            # What waits for the commune: registered or under review ("not yet" is decided
            # until the village asks again), and assessments that would change a status.
            registrations = await hh.registrations(conn, within=scope,
                                                   states=("registered", "under_review"))
            assessments = [a for a, h in await hh.pending_assessments(conn, within=scope)
                           if a.suggested_status != h.status]
            village_of = {a.id: a.name for a in await areas.subtree(conn, scope, "village")}
            household_village = {a.id: village_of[h.village_id]
                                 for a, h in await hh.pending_assessments(conn, within=scope)}
        waiting = len(registrations) + len(assessments)
        assert len(registrations) > 10 and len(assessments) > 5
        expected = {f"reg:{r.id}": village_of[r.village_id] for r in registrations}
        expected |= {f"asm:{a.id}": household_village[a.id] for a in assessments}
        officer = Chat(core, sender, channel="console")
        reply = await officer.send("/duyet")
        assert f"Có {waiting} việc chờ duyệt: {len(registrations)} đăng ký thoát nghèo, " \
            f"{len(assessments)} đề xuất đổi phân loại hộ" in reply, reply.split("\n")[0]
        seen: dict[str, str] = {}
        for _ in range(waiting):
            seen |= {o.data.partition(".")[2]: o.label for m in officer.last
                     for o in m.options if o.data.partition(".")[2][:4] in ("reg:", "asm:")}
            if not any("Xem tiếp" in label for label in officer.options()):
                break
            await officer.press("Xem tiếp")
        assert set(seen) == set(expected)
        misnamed = [label for data, label in seen.items() if expected[data] not in label]
        assert not misnamed, misnamed[:3]
        reply = await officer.press("Chỉ xem đề xuất")
        shown = [o.data.partition(".")[2] for m in officer.last for o in m.options]
        assert shown[0].startswith("asm:") and f"{len(assessments)} đề xuất" in reply
        assert not any(d.startswith("reg:") for d in shown)
        await officer.press("Xem tất cả")
        assert f"Có {waiting} việc chờ duyệt" in officer.text
    finally:
        core.close()
        await db.close()

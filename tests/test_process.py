"""The bot as a process (issue 12, items 1 and 4), through ``python -m bot --zalo`` against the
fake Zalo Bot API: a database locked longer than busy_timeout during a broadcast, a kill
right after a webhook's 200, a second bot on the same database, SIGHUP, and a backup while the
bot writes.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.planner import PLANNED_UNTIL
from storage import areas, people
from storage.audit import Actor
from storage.db import Database
from storage.meta import set_meta
from tests.botprocess import BotProcess, Locker, eventually
from tests.fake_zalo_api import FakeZaloApi, text_event

SETUP = Actor(None, "test:setup")
HEADS = 20
OFFICER = "zo"


@pytest.fixture
async def api():
    async with FakeZaloApi() as server:
        yield server


async def build(path: Path, heads: int = HEADS) -> None:
    """A commune with ``heads`` villages, each with its head on Zalo (z1…), and its
    officer on Zalo (zo)."""
    at = datetime.now(UTC)
    db = await Database.open(path)
    try:
        async with db.write() as conn:
            province = await areas.add_area(conn, parent=None, level="province",
                                            name="Tỉnh Lai Châu", code="12", actor=SETUP, at=at)
            commune = await areas.add_area(conn, parent=province, level="commune",
                                           name="Xã Mường Tè", code="03445", actor=SETUP, at=at)
            staff = [("Nguyễn Thị Hoa", "officer", commune, OFFICER)]
            for n in range(1, heads + 1):
                village = await areas.add_area(conn, parent=commune, level="village",
                                               name=f"Bản {n}", actor=SETUP, at=at)
                staff.append((f"Trưởng bản {n}", "village_head", village, f"z{n}"))
            for name, role, area, zalo_id in staff:
                person = await people.create_person(conn, name, actor=SETUP, at=at)
                await people.link_identity(conn, person, channel="zalo", external_id=zalo_id,
                                           chat_id=zalo_id, display_name=name, actor=SETUP,
                                           at=at)
                await people.grant_role(conn, person, role, area, actor=SETUP, at=at)
            # The calendar has run until now: no reminder of today's real calendar lands in
            # the middle of these tests' chats.
            await set_meta(conn, PLANNED_UNTIL, at.isoformat())
    finally:
        await db.close()


@pytest.fixture
async def db_path(tmp_path):
    path = tmp_path / "bot.sqlite3"
    await build(path)
    return path


@pytest.fixture
async def bots(tmp_path, db_path, api):
    started: list[BotProcess] = []

    def make(**kwargs) -> BotProcess:
        bot = BotProcess(tmp_path, db_path, api, **kwargs)
        started.append(bot)
        return bot

    yield make
    for bot in started:
        await bot.close()


def texts(api: FakeZaloApi, chat: str) -> list[str]:
    return api.sent_texts(chat)


def count(api: FakeZaloApi, chat: str, words: str) -> int:
    return sum(words in text for text in texts(api, chat))


def say(text: str, who: str = OFFICER, message_id: str | None = None) -> dict:
    return text_event(text, user_id=who, message_id=message_id)


async def replied(api: FakeZaloApi, chat: str, before: int, seconds: float = 30) -> str:
    await eventually(lambda: len(texts(api, chat)) > before, seconds, f"a reply to {chat}")
    return texts(api, chat)[-1]


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# ---- item 1: a database locked longer than busy_timeout ----------------------------------------


BUSY_TIMEOUT_MS = 800  # the process tests' busy_timeout: a lock "longer" than it is short


async def test_a_broadcast_reaches_everyone_once_after_a_lock_longer_than_busy_timeout(
        bots, api, db_path):
    """The issue's 12 s lock against the 5 s busy_timeout, scaled down: busy_timeout 0.8 s
    and the lock held at least 2.5 s (and until `health` says what fails). An announcement is
    under way (20 messages a second) when another process locks the database;
    meanwhile the officer starts a second one (its webhook answers 503 until the event can be
    stored, and Zalo sends it again). The bot stays up, `health` says what fails, and once the
    lock clears everyone gets each announcement once and the officer hears how both went."""
    bot = await bots(max_rate=20, busy_timeout_ms=BUSY_TIMEOUT_MS).start()
    n = len(texts(api, OFFICER))
    await bot.post(say("/thongbao"))
    assert "Nội dung thông báo" in await replied(api, OFFICER, n)
    n = len(texts(api, OFFICER))
    await bot.post(say("Họp dân lúc 8 giờ."))
    assert "Sẽ gửi tới 20 người" in await replied(api, OFFICER, n)
    n = len(texts(api, OFFICER))
    await bot.post(say("gui"))
    assert "Đang gửi thông báo tới 20 người" in await replied(api, OFFICER, n)
    await eventually(lambda: count(api, "z1", "Họp dân lúc 8 giờ.") == 1, 10, "first sends")
    locker = Locker(db_path)
    second = None
    # The sends under way take 2.8 s: meanwhile the dispatcher's own rounds (its progress
    # checks of the campaign, its claims) meet the lock, not only its records of sends.
    api.delay("sendMessage", 2.8)
    try:
        locker.hold()
        locked_at = asyncio.get_running_loop().time()
        await asyncio.sleep(2 * BUSY_TIMEOUT_MS / 1000)  # past busy_timeout: writes fail
        second = asyncio.create_task(bot.post(say("/thongbao", message_id="ann-2"),
                                              retry_until_ok=True))
        for _ in range(20):  # the health report comes every 2 s
            code, health = await bot.cli("health")
            if "FAILING   the outbox's delivery" in health:
                break
        assert code == 1, health
        assert "FAILING   the outbox's delivery" in health and "database is locked" in health
        assert "Not well: " in health
        assert bot.proc.returncode is None
        assert not second.done()  # not stored yet: answered 503, sent again
        await asyncio.sleep(max(0.0, locked_at + 2.5 - asyncio.get_running_loop().time()))
    finally:
        api.delay("sendMessage", 0)
        locker.close()
    await asyncio.wait_for(second, 30)
    await eventually(lambda: all(count(api, f"z{i}", "Họp dân lúc 8 giờ.") >= 1
                                 for i in range(1, HEADS + 1)), 30, "the first announcement")
    await eventually(lambda: any("Nội dung thông báo" in t for t in texts(api, OFFICER)[n:]),
                     30, "the second announcement's first question")
    n = len(texts(api, OFFICER))
    await bot.post(say("Họp dân lúc 9 giờ."))
    await eventually(lambda: any("Họp dân lúc 9 giờ." in t for t in texts(api, OFFICER)[n:]),
                     30, "the preview")
    n = len(texts(api, OFFICER))
    await bot.post(say("gui"))
    assert "Đang gửi thông báo tới 20 người" in await replied(api, OFFICER, n, 30)
    await eventually(lambda: all(count(api, f"z{i}", "Họp dân lúc 9 giờ.") == 1
                                 for i in range(1, HEADS + 1)), 30, "the second announcement")
    await eventually(lambda: count(api, OFFICER, "Đã gửi xong thông báo") == 2, 30, "reports")
    await asyncio.sleep(0.5)
    for i in range(1, HEADS + 1):  # once each, none twice
        assert count(api, f"z{i}", "Họp dân lúc 8 giờ.") == 1
        assert count(api, f"z{i}", "Họp dân lúc 9 giờ.") == 1
    assert "20/20 người nhận được" in "\n".join(texts(api, OFFICER))
    assert not any("Xin lỗi" in t for t in texts(api, OFFICER))
    code, health = await bot.cli("health")
    assert code == 0, health
    assert "ok        the outbox's delivery" in health and "All is well." in health
    assert await bot.stop() == 0
    assert "database is locked" in bot.output  # logged when it happened


# ---- item 4: durability, a second process, signals, backups ------------------------------------


async def test_an_event_answered_200_survives_a_kill_and_is_processed_at_the_next_start(
        bots, api, db_path):
    """The head's first message is being answered (Zalo is slow to take the reply) when the
    second one arrives: stored, answered 200, waiting behind the first in its chat — and the
    process is killed (SIGKILL, as a power cut). The next start processes it, once."""
    bot = await bots().start()
    api.delay("sendMessage", 30)
    assert await bot.post(say("/toi", who="z1")) == 200
    await eventually(lambda: api.calls_to("sendMessage"), 10, "the first reply under way")
    assert await bot.post(say("/baocao", who="z1", message_id="after-200")) == 200
    await bot.kill()
    waiting = rows(db_path, "SELECT message_id FROM inbox")
    assert waiting == [("message.text.received:after-200",)]
    api.clear_faults()
    again = await bots().start()
    await eventually(lambda: any("Báo cáo tháng" in t for t in texts(api, "z1")), 20,
                     "the stored message's reply")
    await asyncio.sleep(0.5)
    assert count(api, "z1", "Báo cáo tháng") == 1
    assert rows(db_path, "SELECT message_id FROM inbox") == []
    assert await again.stop() == 0


async def test_a_second_bot_on_the_same_database_is_refused_and_admin_commands_still_work(
        bots, api, db_path):
    first = await bots().start()
    second = bots()
    await second.start(ready=False)
    assert await second.wait(30) == 2
    assert f"another bot is already running on this database (pid {first.proc.pid}" in \
        second.output
    assert "running since" in second.output
    assert "Traceback" not in second.output
    code, out = await first.cli("people")  # admin commands beside the running bot
    assert code == 0 and "Trưởng bản 1" in out, out
    code, out = await first.cli("health")
    assert code == 0 and f"pid {first.proc.pid}" in out, out
    await first.kill()  # kill -9: the lock dies with the process
    third = await bots().start()
    n = len(texts(api, "z2"))
    await third.post(say("/toi", who="z2"))
    assert "Trưởng bản 2" in await replied(api, "z2", n)
    assert await third.stop() == 0


async def test_sighup_stops_the_bot_like_sigterm_letting_the_work_under_way_finish(
        bots, api, db_path):
    bot = await bots().start()
    api.delay("sendMessage", 1.5)
    assert await bot.post(say("/toi", who="z3")) == 200
    await eventually(lambda: api.calls_to("sendMessage"), 10, "the reply under way")
    assert await bot.stop(signal.SIGHUP) == 0
    assert any("Trưởng bản 3" in t for t in texts(api, "z3"))  # finished, not cut
    assert "stopped" in bot.output
    assert rows(db_path, "SELECT count(*) FROM inbox") == [(0,)]
    code, out = await bot.cli("health")
    assert code == 1 and "not running" in out and "stopped normally" in out, out


async def test_a_backup_while_the_bot_writes_restores_to_the_same_database(
        bots, api, db_path, tmp_path):
    """Twenty heads file their reports while `backup` runs: the copy is one moment of the
    database (sound, no message both waiting and processed); restored with `restore` (the
    bot stopped), every table holds what the backup holds, row for row."""
    bot = await bots().start()
    answers = ["/baocao", "120", "15", "8", "2", "1", "0", "3", "10", "5tr", "bo qua", "gui"]

    async def head(i: int) -> None:
        for answer in answers:
            n = len(texts(api, f"z{i}"))
            await bot.post(say(answer, who=f"z{i}"))
            await replied(api, f"z{i}", n)

    filing = asyncio.gather(*(head(i) for i in range(1, HEADS + 1)))
    await asyncio.sleep(1.0)
    copy = tmp_path / "backup.sqlite3"
    code, out = await bot.cli("backup", str(copy))
    assert code == 0, out
    assert f"to {copy}" in out and "checked" in out
    await filing
    assert all("Đã lưu" in "\n".join(texts(api, f"z{i}")) for i in range(1, HEADS + 1))
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]
    assert rows(copy, "SELECT count(*) FROM inbox i JOIN inbound_seen s"
                      " ON s.channel = i.channel AND s.message_id = i.message_id") == [(0,)]
    code, out = await bot.cli("restore", str(copy))
    assert code == 1 and "a bot is running" in out and f"pid {bot.proc.pid}" in out, out
    assert await bot.stop() == 0
    assert rows(db_path, "SELECT count(*) FROM reports")[0][0] == HEADS
    code, out = await bot.cli("restore", str(copy))
    assert code == 0, out
    assert "kept in" in out
    tables = [r[0] for r in rows(copy, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                       " AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        assert rows(db_path, f'SELECT * FROM "{table}" ORDER BY 1') == \
            rows(copy, f'SELECT * FROM "{table}" ORDER BY 1'), table
    kept = next(tmp_path.glob("bot.sqlite3.before-restore-*"))
    assert rows(kept, "SELECT count(*) FROM reports") == [(HEADS,)]
    again = await bots().start()  # the restored database runs
    n = len(texts(api, "z1"))
    await again.post(say("/toi", who="z1"))
    assert "Trưởng bản 1" in await replied(api, "z1", n)
    assert await again.stop() == 0

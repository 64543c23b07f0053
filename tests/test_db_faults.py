"""Passing database faults (issue 12, item 1): every background loop and every message survives
a database locked longer than ``busy_timeout`` (another process's long transaction, e.g. a
large household import), a disk I/O error or a full disk; what a person hears meanwhile; and
how the loops' health is told.

The lock here is a real one: another connection holds SQLite's write lock (BEGIN IMMEDIATE),
as another process does; ``busy_timeout`` is short so that the tests run in a second or two
(``tests/test_process.py`` does the same with the real bot process).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import contextmanager

import pytest

from common.config import replace
from common.messages import Inbound, Outbound
from handlers.core import Core
from scheduler import Clockwork
from scheduler.dispatcher import Dispatcher
from storage import inbox, outbox
from storage.db import Database, is_transient
from storage.outbox import Planned
from storage.query import fetch_all
from tests.conftest import build_world

BUSY_MS = 150  # the busy timeout of these tests' connections


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "faults.sqlite3", busy_timeout_ms=BUSY_MS)
    yield database
    await database.close()


@pytest.fixture
async def world(db, clock):
    return await build_world(db, clock())


@pytest.fixture
def cfg(config):
    return replace(config, outbox=replace(config.outbox, concurrency=2))


class Locker:
    """Another process's long write transaction on the same database file."""

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.held = False

    def hold(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.rollback()
            self.held = False

    def close(self) -> None:
        self.release()
        self.conn.close()


@pytest.fixture
def locker(db):
    lock = Locker(db.path)
    yield lock
    lock.close()


class Recorder:
    """A channel that records what it is asked to send; ``gate`` holds the first send."""

    channel = "test"
    rate = 1000.0
    per_chat_interval = 0.0

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, chat_id: str, message: Outbound) -> None:
        self.entered.set()
        await self.gate.wait()
        self.sent.append((chat_id, message.text))


async def eventually(predicate, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not reached in time")


async def announce(db, clock, key: str, people: list[int], text: str) -> int:
    async with db.write() as conn:
        return await outbox.create_campaign(
            conn, key=key, kind="announce", messages=[Planned(p, Outbound(text))
                                                     for p in people],
            not_before=clock(), at=clock())


async def states(db, campaign: int) -> list[str]:
    async with db.read() as conn:
        rows = await fetch_all(conn, "SELECT state FROM outbox WHERE campaign_id = ?"
                               " ORDER BY id", (campaign,))
    return [r[0] for r in rows]


def everyone(world) -> list[int]:
    return [world.head_id, world.officer_id, world.province_officer_id, world.far_head_id]


# ---- what counts as passing -------------------------------------------------------------------


def sqlite_error(code: int, text: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(("error", "transient"), [
    (sqlite_error(5, "database is locked"), True),
    (sqlite_error(517, "database is locked"), True),  # SQLITE_BUSY_SNAPSHOT
    (sqlite_error(6, "database table is locked"), True),
    (sqlite_error(10, "disk I/O error"), True),
    (sqlite_error(4874, "disk I/O error"), True),  # SQLITE_IOERR_SHORT_READ and the like
    (sqlite_error(13, "database or disk is full"), True),
    (sqlite3.OperationalError("database is locked"), True),  # no code: by its words
    (sqlite_error(1, "no such table: nowhere"), False),  # a bug
    (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
    (sqlite_error(11, "database disk image is malformed"), False),  # needs a person
    (ValueError("database is locked"), False),
])
def test_which_database_errors_are_passing(error, transient):
    assert is_transient(error) is transient


def test_a_real_lock_is_passing(tmp_path):
    path = str(tmp_path / "x.sqlite3")
    first = sqlite3.connect(path, isolation_level=None, timeout=0)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("BEGIN IMMEDIATE")
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as raised:
        second.execute("BEGIN IMMEDIATE")
    assert is_transient(raised.value)
    first.close()
    second.close()


# ---- the dispatcher -----------------------------------------------------------------------------


async def test_the_dispatcher_outlives_a_lock_longer_than_the_busy_timeout(
        db, cfg, clock, world, locker, caplog):
    """Locked while a broadcast is under way, and an announcement planned after the lock: the
    dispatcher keeps running, the error is logged at once and shown in its health, and
    everyone gets each message once when the lock clears."""
    sender = Recorder()
    dispatcher = Dispatcher(db, cfg, {"test": sender}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    sender.gate.clear()
    before = await announce(db, clock, "before", everyone(world), "Họp dân lúc 8 giờ.")
    await asyncio.wait_for(sender.entered.wait(), 5)  # the first send is under way
    locker.hold()
    sender.gate.set()  # it went through: its outcome must wait for the lock
    await asyncio.sleep(6 * BUSY_MS / 1000)
    assert not task.done(), task.exception() if task.done() else None
    health = db.health.loops["dispatcher"]
    assert health.failing and "database is locked" in health.last_error
    assert any("database is locked" in r.getMessage() for r in caplog.records
               if r.name == "scheduler.dispatcher" and r.levelno == logging.WARNING)
    locker.release()
    after = await announce(db, clock, "after", everyone(world), "Họp dân lúc 9 giờ.")
    await eventually(lambda: len(sender.sent) == 8)
    await asyncio.sleep(0.3)
    assert sorted(sender.sent) == sorted(
        [(str(c), "Họp dân lúc 8 giờ.") for c in (100, 200, 300, 400)]
        + [(str(c), "Họp dân lúc 9 giờ.") for c in (100, 200, 300, 400)])
    await eventually(lambda: not db.health.loops["dispatcher"].failing)
    for _ in range(100):  # the first one's record waits for its next try
        if await states(db, before) == ["sent"] * 4:
            break
        await asyncio.sleep(0.05)
    assert await states(db, before) == await states(db, after) == ["sent"] * 4
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_full_disk_while_recording_a_send_does_not_send_it_again(
        db, cfg, clock, world, monkeypatch):
    """The messenger took the message, then the database refused to record it (full disk,
    twice): it is recorded when the database works again, and sent once."""
    sender = Recorder()
    dispatcher = Dispatcher(db, cfg, {"test": sender}, clock)
    real = outbox.mark_sent
    refusals = []

    async def mark_sent(conn, *args, **kwargs):
        if len(refusals) < 2:
            refusals.append(1)
            raise sqlite_error(13, "database or disk is full")
        return await real(conn, *args, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent)
    campaign = await announce(db, clock, "full", [world.head_id], "Họp dân lúc 8 giờ.")
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await eventually(lambda: len(refusals) == 2 and not db.health.loops["dispatcher"].failing)
    await asyncio.sleep(1.5)  # long enough for a second send, were it sent again
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sender.sent == [("100", "Họp dân lúc 8 giờ.")]
    assert await states(db, campaign) == ["sent"]


async def test_a_bug_in_a_round_is_logged_and_the_dispatcher_goes_on(
        db, cfg, clock, world, monkeypatch, caplog):
    sender = Recorder()
    dispatcher = Dispatcher(db, cfg, {"test": sender}, clock)
    real = dispatcher.maintain
    calls = []

    async def maintain():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return await real()

    monkeypatch.setattr(dispatcher, "maintain", maintain)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await eventually(lambda: len(calls) >= 1)
    await announce(db, clock, "a", [world.head_id], "Họp dân.")
    await eventually(lambda: len(sender.sent) == 1)
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records
               if r.name == "scheduler.dispatcher")
    stop.set()
    await asyncio.wait_for(task, 5)


# ---- the planner's ticks ----------------------------------------------------------------------


async def test_a_tick_on_a_locked_database_is_tried_again_and_the_start_goes_on(
        db, cfg, clock, world, locker, monkeypatch):
    clockwork = Clockwork(db, cfg, {"test": Recorder()}, clock)
    ticks = []
    real = clockwork.planner.tick

    async def tick():
        ticks.append(1)
        return await real()

    monkeypatch.setattr(clockwork.planner, "tick", tick)
    monkeypatch.setattr("scheduler.TICK_RETRY_FIRST", 0.05)
    locker.hold()
    await asyncio.wait_for(clockwork.start(), 5)  # the bot starts all the same
    await eventually(lambda: len(ticks) >= 2)  # tried again, not given up
    assert db.health.loops["planner"].failing
    locker.release()
    await eventually(lambda: not db.health.loops["planner"].failing)
    await clockwork.stop()


# ---- a message that meets a passing fault -------------------------------------------------------


async def test_a_message_on_a_locked_database_is_answered_busy_once_then_for_real(
        db, config, clock, world, locker):
    """The person hears once that the system is busy and that their message will be
    processed, then the real answer; nothing is dropped, and no apology."""
    core = Core(db, config, clock)
    notices: list[str] = []

    async def on_busy(replies):
        notices.extend(r.text for r in replies)

    locker.hold()
    handling = asyncio.create_task(core.handle(
        Inbound("test", "100", "100", "m-lock-1", text="/baocao"), on_busy=on_busy))
    await asyncio.sleep(8 * BUSY_MS / 1000)  # several tries meanwhile
    assert not handling.done()
    assert notices == ["⏳ Hệ thống đang bận, tin nhắn của bạn sẽ được xử lý ngay khi có thể. "
                       "Bạn không cần gửi lại."]
    assert db.health.loops["test messages"].failing
    locker.release()
    replies = await asyncio.wait_for(handling, 10)
    assert "Báo cáo tháng" in replies[0].text
    assert "Xin lỗi" not in "\n".join(r.text for r in replies)
    assert len(notices) == 1
    assert not db.health.loops["test messages"].failing


async def test_a_stored_message_stays_in_the_inbox_until_it_is_processed(
        db, config, clock, world, locker):
    core = Core(db, config, clock)
    async with db.write() as conn:
        await inbox.store(conn, "zalo", [("z-1", "100", "{}")], clock())
    locker.hold()
    handling = asyncio.create_task(core.handle(
        Inbound("test", "100", "100", "z-1", text="/baocao"),
        settle=[inbox.settle_statement("zalo", "z-1")]))
    await asyncio.sleep(4 * BUSY_MS / 1000)
    async with db.read() as conn:
        assert [r[0] for r in await inbox.waiting(conn, "zalo")] == ["z-1"]
    core.stop_retrying()  # the bot stops meanwhile: the message waits for the next start
    assert await asyncio.wait_for(handling, 5) == []
    locker.release()
    async with db.read() as conn:
        assert [r[0] for r in await inbox.waiting(conn, "zalo")] == ["z-1"]


async def test_a_bug_still_gets_the_apology_and_is_settled(db, config, clock, world,
                                                            monkeypatch):
    core = Core(db, config, clock)

    async def broken(ctx):
        raise RuntimeError("a bug")

    monkeypatch.setattr(core, "_dispatch", broken)
    async with db.write() as conn:
        await inbox.store(conn, "zalo", [("z-2", "100", "{}")], clock())
    replies = await core.handle(Inbound("test", "100", "100", "z-2", text="/baocao"),
                                settle=[inbox.settle_statement("zalo", "z-2")])
    assert "Xin lỗi" in replies[0].text
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []


# ---- checkpoints --------------------------------------------------------------------------------


@contextmanager
def failing_checkpoints(db, monkeypatch):
    async def checkpoint():
        raise sqlite_error(10, "disk I/O error")

    monkeypatch.setattr(db, "checkpoint", checkpoint)
    yield
    monkeypatch.undo()


async def test_failing_checkpoints_are_logged_once_and_shown_in_health(db, monkeypatch, caplog):
    with failing_checkpoints(db, monkeypatch):
        await asyncio.sleep(1.6)  # three rounds and more (backing off)
        health = db.health.loops["checkpoints"]
        assert health.failing and health.failures >= 3
        assert "disk I/O error" in health.last_error
    told = [r for r in caplog.records if r.name == "storage.db"
            and "disk I/O error" in r.getMessage()]
    assert len(told) == 1  # at once, not every quarter of a second
    await eventually(lambda: not db.health.loops["checkpoints"].failing)

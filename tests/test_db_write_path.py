"""The write path: a message's transaction runs its statements without handing each one to a
database thread and back (``python -m bench.core --trace``: each hand-over, with the write
lock held, is one more chance to wait for a busy CPU), yet waiting never stops the event
loop: for another process's lock, or for an fsync."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime

import aiosqlite
import pytest

from storage import db as db_module
from storage.db import Database
from storage.dialogs import DialogState, load_dialog, save_dialog
from tests.conftest import Chat


@pytest.fixture
def trips(monkeypatch):
    """Calls the current task hands to a thread (an aiosqlite connection's or any other)."""
    calls: list[str] = []
    task = None
    original_execute = aiosqlite.Connection._execute
    original_to_thread = asyncio.to_thread

    async def execute(conn, fn, *args, **kwargs):
        if asyncio.current_task() is task:
            calls.append(getattr(fn, "__name__", repr(fn)))
        return await original_execute(conn, fn, *args, **kwargs)

    async def to_thread(fn, *args, **kwargs):
        if asyncio.current_task() is task:
            calls.append(getattr(fn, "__name__", repr(fn)))
        return await original_to_thread(fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", execute)
    monkeypatch.setattr(asyncio, "to_thread", to_thread)

    def start() -> list[str]:
        nonlocal task
        task = asyncio.current_task()
        calls.clear()
        return calls

    return start


async def test_a_message_is_handled_without_a_trip_to_a_database_thread(core, world, trips):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    calls = trips()
    await head.send("18")  # loads the dialog, saves it, commits
    assert calls == []
    for answer in ("9", "1", "0", "0", "15", "20", "5tr"):
        await head.send(answer)
    await head.press("Bỏ qua")
    calls = trips()
    reply = await head.press("Gửi")  # a report saved: a dozen statements
    assert "Đã lưu" in reply
    assert calls == []


async def test_a_write_waits_for_another_process_without_stopping_the_loop(db, world):
    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process (the CLI) holds the write lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())

    async def write() -> None:
        async with db.write() as conn:
            await conn.execute("UPDATE areas SET name = 'Bản Nà Khan Mới' WHERE id = ?",
                               (world.village.id,))

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()
    assert ticks >= 10  # the loop kept running while the write waited
    await asyncio.to_thread(other.execute, "COMMIT")
    await asyncio.wait_for(writing, 5)
    ticker.cancel()
    other.close()
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT name FROM areas WHERE id = ?",
                                           (world.village.id,))
    assert rows[0][0] == "Bản Nà Khan Mới"


async def test_a_statement_that_fails_rolls_the_whole_message_back(db, world):
    with pytest.raises(sqlite3.IntegrityError):
        async with db.write() as conn:
            await conn.execute("UPDATE areas SET name = 'X' WHERE id = ?", (world.village.id,))
            await conn.execute("INSERT INTO areas (id) VALUES (?)", (world.village.id,))
    async with db.write() as conn:  # the connection is usable again, nothing was kept
        async with conn.execute("SELECT name FROM areas WHERE id = ?",
                                (world.village.id,)) as cur:
            assert (await cur.fetchone())[0] == "Bản Nà Khan"


async def test_saving_a_dialog_in_the_middle_of_a_form_writes_one_page(tmp_path, monkeypatch):
    """A report's draft is about 1 KB (its figures, last month's, the buttons); the dialog row
    is rewritten on every message, a little longer or shorter. Stored beside its key (WITHOUT
    ROWID) such a row overflows (past about 1,000 bytes on a 4 KiB page), and each rewrite
    frees and allocates overflow pages: four pages to the log per message instead of one."""
    monkeypatch.setattr(db_module, "CHECKPOINT_INTERVAL", 3600)
    db = await Database.open(tmp_path / "d.sqlite3")
    at = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    figures = {f"field_{i}": 1000 + i for i in range(75)}
    assert 1100 < len(json.dumps(figures)) < 1400  # as a report's draft in the middle
    try:
        for sender in range(30):  # a few people in the middle of a report
            async with db.write() as conn:
                await save_dialog(conn, "test", str(sender),
                                  DialogState("report", "form", {**figures, "n": 0}), at)
        for n in range(1, 4):
            await db.checkpoint()  # every page copied: the next write starts the log again
            async with db.write() as conn:
                await save_dialog(conn, "test", "7",
                                  DialogState("report", "form", {**figures, "n": "x" * n}), at)
            _, pages, _ = await db.checkpoint()
            assert pages == 1, f"one dialog saved: {pages} pages written to the log"
        async with db.read() as conn:
            state = await load_dialog(conn, "test", "7")
        assert state.draft == {**figures, "n": "xxx"}
    finally:
        await db.close()


async def test_with_synchronous_full_only_the_commit_goes_to_a_thread(tmp_path, trips):
    """A commit that syncs the log to disk (``synchronous = "FULL"``) waits for the disk:
    it is made in a thread, so the event loop goes on meanwhile; the statements are not."""
    db = await Database.open(tmp_path / "f.sqlite3", synchronous="FULL")
    try:
        calls = trips()
        async with db.write() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        assert calls == ["commit"]
        async with db.read() as conn:
            rows = await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'k'")
        assert [r[0] for r in rows] == ["v"]
    finally:
        await db.close()


async def test_dialogs_under_way_survive_the_move_to_an_ordinary_table(tmp_path, monkeypatch):
    """Migration 13 rebuilds the dialogs table: a dialog under way before the upgrade goes on
    after it, still marked as work under way."""
    from storage import migrations

    before = [m for m in migrations.MIGRATIONS if m[0] < 13]
    monkeypatch.setattr(migrations, "MIGRATIONS", before)
    at = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    db = await Database.open(tmp_path / "u.sqlite3")
    async with db.write() as conn:
        await save_dialog(conn, "zalo", "42", DialogState("report", "form", {"idx": 3}), at)
    await db.close()
    monkeypatch.undo()
    db = await Database.open(tmp_path / "u.sqlite3")
    try:
        async with db.read() as conn:
            state = await load_dialog(conn, "zalo", "42")
            rows = await conn.execute_fetchall(
                "SELECT busy, sql FROM dialogs, sqlite_master WHERE name = 'dialogs'")
        assert (state.dialog, state.step, state.draft) == ("report", "form", {"idx": 3})
        assert rows[0][0] == 1 and "WITHOUT ROWID" not in rows[0][1]
    finally:
        await db.close()

"""The write path: a message's transaction runs its statements without handing each one to a
database thread and back (``python -m bench.core --trace``: each hand-over, with the write
lock held, is one more chance to wait for a busy CPU), yet waiting never stops the event
loop: for another process's lock, or for an fsync."""

from __future__ import annotations

import asyncio
import sqlite3

import aiosqlite
import pytest

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

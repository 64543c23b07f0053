"""The write-ahead log under a steady stream of writes: background checkpoints keep it short
and never make a writer wait (what ``python -m bench.core --trace`` showed going wrong)."""

from __future__ import annotations

import asyncio
import os

import pytest

from storage import db as db_module
from storage.db import Database


async def _steady_writes(db: Database, seconds: float, writers: int = 4) -> int:
    """``writers`` tasks writing back to back (the write lock never idle) for ``seconds``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    done = 0

    async def write() -> None:
        nonlocal done
        while loop.time() < end:
            async with db.write() as conn:
                await conn.execute("INSERT INTO t (payload) VALUES (?)", (os.urandom(600),))
            done += 1

    await asyncio.gather(*(write() for _ in range(writers)))
    return done


@pytest.fixture
async def busy_db(tmp_path, monkeypatch):
    monkeypatch.setattr(db_module, "CHECKPOINT_INTERVAL", 0.05)
    database = await Database.open(tmp_path / "c.sqlite3", migrate=False)
    async with database.write() as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
    yield database
    await database.close()


async def test_the_log_starts_again_while_writes_never_stop(busy_db):
    """With a writer always under way, a passive checkpoint never finds the whole log
    copied; the log must still start again from its beginning, not grow for ever."""
    written = await _steady_writes(busy_db, 2.0)
    wal = await asyncio.to_thread(os.path.getsize, busy_db.path + "-wal")
    pages = wal // 4096
    # Each write adds a page or two; a log that starts again every round of checkpoints
    # (every 50 ms here) stays a small part of them.
    assert written > 5000
    assert pages * 5 < written, f"the log grew to {pages} pages over {written} writes"


async def test_the_log_starts_again_with_many_writers_queued(busy_db):
    """Hundreds of messages queued for the write lock (a burst of replies to a reminder):
    the last, short pass of a checkpoint runs at the next transaction's turn, not after the
    whole queue, by which time thousands of pages more would have to be copied with the
    write lock held."""
    written = await _steady_writes(busy_db, 2.0, writers=300)
    wal = await asyncio.to_thread(os.path.getsize, busy_db.path + "-wal")
    pages = wal // 4096
    assert written > 5000
    assert pages * 5 < written, f"the log grew to {pages} pages over {written} writes"


async def test_checkpoints_never_lock_writers_out(tmp_path, monkeypatch):
    """A background checkpoint must never hold SQLite's write lock: every writer would then
    sleep in SQLite's busy handler (1, 2, 5, 10 … ms steps), and with no time to wait (here,
    as for a CLI that may not wait) its write would be refused. The log is taken past the
    size at which a restarting checkpoint used to be tried."""
    monkeypatch.setattr(db_module, "CHECKPOINT_INTERVAL", 0.05)
    database = await Database.open(tmp_path / "l.sqlite3", migrate=False, busy_timeout_ms=0)
    try:
        async with database.write() as conn:
            await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
        loop = asyncio.get_running_loop()
        end = loop.time() + 2.0
        written = 0

        async def write() -> None:
            nonlocal written
            while loop.time() < end:
                async with database.write() as conn:
                    await conn.execute("INSERT INTO t (payload) VALUES (?)",
                                       (os.urandom(5000),))
                written += 1

        await asyncio.gather(*(write() for _ in range(4)))  # raises if one was refused
    finally:
        await database.close()
    assert written * 2 > 8192  # pages written: past the old threshold

"""The database: one write connection (every write goes through it), one read connection.

SQLite in WAL mode lets the read connection see committed data while a write is under way.
All writes of one inbound message happen in one transaction (``async with db.write() as conn``),
so nothing half-written ever reaches the database.

Checkpoints (copying the write-ahead log back into the database file, with an fsync) do not
run inside commits, where they would stall every writer for tens of milliseconds: the writer
has automatic checkpoints off, and a third connection checkpoints in the background, only
ever in PASSIVE mode, which never takes SQLite's write lock (see ``checkpoint_log``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.migrations import apply_migrations

log = logging.getLogger(__name__)


async def _connect(path: str, synchronous: str, busy_timeout_ms: int) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA synchronous={synchronous}")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return conn


# Background checkpoints run this often (seconds); see Database.checkpoint_log.
CHECKPOINT_INTERVAL = 1.0
# The most pages a checkpoint copies while holding the write lock (about 1 ms of copying);
# a longer rest of the log is copied without it first.
LOCKED_CHECKPOINT_PAGES = 256
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a reset log file is truncated to


def _begin_with(conn: sqlite3.Connection, statements) -> list[int]:
    """In the database thread: BEGIN IMMEDIATE, then ``statements``; their row counts."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        return [conn.execute(sql, args).rowcount for sql, args in statements]
    except BaseException:
        conn.rollback()
        raise


class Database:
    """Owns the connections; hands them out for one transaction at a time."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        path: str,
        checkpointer: aiosqlite.Connection | None = None,
    ):
        self._writer = writer
        self._reader = reader
        self._checkpointer = checkpointer
        self._lock = asyncio.Lock()
        self._writers = 0  # write transactions under way or waiting for the lock
        self._no_writers = asyncio.Event()
        self._no_writers.set()
        self.path = path
        self._checkpoints: asyncio.Task | None = None
        if checkpointer is not None:
            self._checkpoints = asyncio.create_task(self._checkpoint_forever())

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        migrate: bool = True,
    ) -> Database:
        """Open (creating the file and its folder) and bring the schema up to date."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path, synchronous, busy_timeout_ms)
        if migrate:
            applied = await apply_migrations(writer)
            for name in applied:
                log.info("applied migration %s", name)
        reader = await _connect(path, synchronous, busy_timeout_ms)
        await reader.execute("PRAGMA query_only=ON")
        checkpointer = None
        if path != ":memory:":
            await writer.execute("PRAGMA wal_autocheckpoint=0")
            await writer.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            checkpointer = await _connect(path, synchronous, busy_timeout_ms)
            # Never wait: a checkpoint that cannot run now simply runs next time.
            await checkpointer.execute("PRAGMA busy_timeout=0")
        return cls(writer, reader, path, checkpointer)

    async def checkpoint(self) -> tuple[int, int, int]:
        """A passive checkpoint now: (busy, pages in the log, pages checkpointed)."""
        conn = self._checkpointer or self._writer
        rows = await conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        return tuple(rows[0])

    async def checkpoint_log(self) -> bool:
        """Copy the log into the database file so that the next write starts the log again
        from its beginning; whether it came to that.

        The log only starts again when a write begins with every page of it copied. Under a
        steady stream of writes a passive checkpoint never gets there: transactions commit
        while it copies. Measured with ``python -m bench.core --trace``: the log grew to
        50,000 pages (200 MB); the restarting checkpoint tried past 8,192 pages took SQLite's
        write lock, and every writer slept in SQLite's busy handler (8 ms and more, in steps of
        1, 2, 5, 10 ms); and the first commit after the log did start again cut the log file
        down to ``journal_size_limit`` (66 ms, freeing 140 MB). So: a passive checkpoint
        copies the bulk while writes go on; then the few pages committed meanwhile are copied
        holding this process's write lock (writers wait on it and start the moment it is
        free), still passively, so that other processes' writers are never locked out.
        """
        _, pages, done = await self.checkpoint()
        for _ in range(3):  # a burst of writes: copy the rest while they go on
            if pages - done <= LOCKED_CHECKPOINT_PAGES:
                break
            _, pages, done = await self.checkpoint()
        if pages <= 0:  # not a log (-1), or empty
            return pages == 0
        # Copied to its end or not, a transaction under way now commits after the copy: the
        # last pass is made with none under way (it copies nothing if nothing came in).
        if pages - done > LOCKED_CHECKPOINT_PAGES:
            return False  # still writing fast: the next round tries again
        async with self._lock:
            _, pages, done = await self.checkpoint()
        return pages == done

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL)
            try:
                await self.checkpoint_log()
            except asyncio.CancelledError:
                raise
            except Exception:  # a busy database or a full disk: try again next time
                log.warning("background checkpoint failed", exc_info=True)

    async def close(self) -> None:
        """Close the connections, checkpointing what is left (safe to call twice)."""
        if self._writer is None:
            return
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            try:
                await self._checkpoints
            except asyncio.CancelledError:
                pass
        await self._reader.close()
        if self._checkpointer is not None:
            await self._checkpointer.close()
        await self._writer.close()  # the last connection to close checkpoints the log
        self._reader = self._writer = self._checkpointer = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self.write_opening() as (conn, _):
            yield conn

    @asynccontextmanager
    async def write_opening(
        self, *opening: tuple[str, Sequence[object]]
    ) -> AsyncIterator[tuple[aiosqlite.Connection, list[int]]]:
        """A write transaction whose first statements (``(sql, args)``, no rows returned) run
        with its BEGIN in one trip to the database thread; yields the connection and their
        row counts.

        The write lock is held while the transaction's trips come and go through the event
        loop, and every message waits for that lock: one trip fewer is a shorter hold for
        all of them (measured with ``python -m bench.zalo``).
        """
        self._writers += 1
        self._no_writers.clear()
        try:
            async with self._lock:
                # aiosqlite's own queue to its thread (pinned version): one call, one trip
                counts = await self._writer._execute(_begin_with, self._writer._conn, opening)
                try:
                    yield self._writer, counts
                except BaseException:
                    await self._writer.rollback()
                    raise
                else:
                    await self._writer.commit()
        finally:
            self._writers -= 1
            if not self._writers:
                self._no_writers.set()

    async def writes_settled(self, limit: float) -> bool:
        """Wait until no write transaction is under way or waiting, for at most ``limit``
        seconds; whether it came to that.

        For background readers (statistics): Python work on the event loop lengthens every
        database trip of the transaction that holds the write lock, and every message
        waiting for that lock waits for it too; starting when the writes have settled keeps
        a burst of such work from holding up the dialogs. The limit keeps a steady stream of
        writes from holding the readers up for ever.
        """
        if not self._writers:
            return True
        try:
            await asyncio.wait_for(self._no_writers.wait(), limit)
        except TimeoutError:
            return False
        return True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection for reads; it never sees another task's uncommitted writes."""
        yield self._reader

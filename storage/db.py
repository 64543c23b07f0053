"""The database: one write connection (every write goes through it), one read connection.

SQLite in WAL mode lets the read connection see committed data while a write is under way.
All writes of one inbound message happen in one transaction (``async with db.write() as conn``),
so nothing half-written ever reaches the database.

Checkpoints (copying the write-ahead log back into the database file, with an fsync) do not
run inside commits, where they would stall every writer for tens of milliseconds: the writer
has automatic checkpoints off, and a third connection checkpoints in the background.
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


# Background checkpoints: a passive one this often (seconds); when the log has grown past
# RESTART_PAGES pages, a restarting one so the log starts again from its beginning.
CHECKPOINT_INTERVAL = 1.0
RESTART_PAGES = 8192
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
            # Never wait: a restarting checkpoint that waits for a long read (statistics)
            # blocks every writer meanwhile; one that cannot run now simply runs next time.
            await checkpointer.execute("PRAGMA busy_timeout=0")
        return cls(writer, reader, path, checkpointer)

    async def checkpoint(self, restart: bool = False) -> tuple[int, int, int]:
        """Checkpoint the log now: (busy, pages in the log, pages checkpointed)."""
        mode = "RESTART" if restart else "PASSIVE"
        conn = self._checkpointer or self._writer
        rows = await conn.execute_fetchall(f"PRAGMA wal_checkpoint({mode})")
        return tuple(rows[0])

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL)
            try:
                _, pages, _ = await self.checkpoint()
                if pages > RESTART_PAGES:
                    await self.checkpoint(restart=True)
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

"""The database: one write connection (every write goes through it), one read connection.

SQLite in WAL mode lets the read connection see committed data while a write is under way.
All writes of one inbound message happen in one transaction (``async with db.write() as conn``),
so nothing half-written ever reaches the database.

Writes run on the event loop's own thread (``WriteConnection``), reads and checkpoints in
aiosqlite's threads. Every write waits for the write lock, so the time a transaction holds it
is every message's latency: handing each statement to a database thread and back cost two
thread wake-ups per statement (13 statements to file a report), each one more chance to wait
for a busy CPU (``python -m bench.core --trace``), for statements that take microseconds.
What can wait runs in a thread: the BEGIN that finds another process's write lock, and a
commit that syncs to disk (``synchronous`` FULL or EXTRA).

Checkpoints (copying the write-ahead log back into the database file, with an fsync) do not
run inside commits, where they would stall every writer for tens of milliseconds: the writer
has automatic checkpoints off, and a third connection checkpoints in the background, only
ever in PASSIVE mode, which never takes SQLite's write lock (see ``checkpoint_log``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.health import Health, is_transient
from storage.migrations import apply_migrations

__all__ = ["Database", "WriteConnection", "is_transient"]

log = logging.getLogger(__name__)


def _settings(synchronous: str, busy_timeout_ms: int) -> list[str]:
    return ["PRAGMA journal_mode=WAL", f"PRAGMA synchronous={synchronous}",
            "PRAGMA foreign_keys=ON", f"PRAGMA busy_timeout={int(busy_timeout_ms)}"]


async def _connect(path: str, synchronous: str, busy_timeout_ms: int) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    for pragma in _settings(synchronous, busy_timeout_ms):
        await conn.execute(pragma)
    return conn


SQLITE_BUSY = 5  # the primary result code of "database is locked"


class WriteCursor:
    """A cursor of the write connection (the part of aiosqlite's ``Cursor`` the code uses)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def description(self):
        return self._cursor.description

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self):
        return self._rows()

    async def _rows(self):
        for row in self._cursor:
            yield row

    async def __aenter__(self) -> WriteCursor:
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()


class _Executing:
    """``conn.execute(...)``: awaited for its cursor, or ``async with`` it (as aiosqlite's)."""

    __slots__ = ("_running", "_cursor")

    def __init__(self, running):
        self._running = running
        self._cursor: WriteCursor | None = None

    def __await__(self):
        return self._running.__await__()

    async def __aenter__(self) -> WriteCursor:
        self._cursor = await self._running
        return self._cursor

    async def __aexit__(self, *exc) -> None:
        await self._cursor.close()


class WriteConnection:
    """The write connection: aiosqlite's interface, its statements run on the calling thread.

    It is only used holding the write lock (``Database.write``), so no two uses overlap.
    Its own busy timeout is 0: a statement that finds another process's lock is run again in
    a thread, where it waits up to ``busy_timeout_ms`` while the event loop goes on; it has
    made no change (SQLite returns "database is locked" before it writes), and that is only
    done outside a transaction (a BEGIN, a statement on its own), where nothing else is lost.
    Inside a transaction begun with BEGIN IMMEDIATE, WAL mode never waits for a lock.
    """

    def __init__(self, conn: sqlite3.Connection, busy_timeout_ms: int, sync_commits: bool,
                 synchronous: str = "NORMAL"):
        self._conn = conn
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._sync_commits = sync_commits  # a commit syncs to disk: made in a thread
        self._synchronous = synchronous  # the configured level, restored after a durable one
        self._durable = False  # the transaction under way syncs at its commit (begin)
        conn.execute("PRAGMA busy_timeout=0")

    @classmethod
    async def connect(cls, path: str, synchronous: str, busy_timeout_ms: int) -> WriteConnection:
        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            for pragma in _settings(synchronous, busy_timeout_ms):
                conn.execute(pragma)
            return conn

        conn = await asyncio.to_thread(connect)  # may wait for a lock (journal_mode)
        return cls(conn, busy_timeout_ms, synchronous.upper() in ("FULL", "EXTRA", "2", "3"),
                   synchronous)

    @property
    def row_factory(self):
        return self._conn.row_factory

    @row_factory.setter
    def row_factory(self, factory) -> None:
        self._conn.row_factory = factory

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes

    async def _run(self, fn, *args):
        try:
            return fn(*args)
        except sqlite3.OperationalError as error:
            busy = (getattr(error, "sqlite_errorcode", 0) & 0xFF) == SQLITE_BUSY
            if not busy or self._conn.in_transaction:
                raise
        return await _in_thread(self._waiting, fn, *args)

    def _waiting(self, fn, *args):
        """In a thread: ``fn`` with SQLite's busy handler waiting for the lock."""
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    async def _cursor(self, method, *args) -> WriteCursor:
        return WriteCursor(await self._run(method, *args))

    def execute(self, sql: str, parameters=()) -> _Executing:
        return _Executing(self._cursor(self._conn.execute, sql, parameters))

    def executemany(self, sql: str, parameters) -> _Executing:
        return _Executing(self._cursor(self._conn.executemany, sql, parameters))

    def executescript(self, script: str) -> _Executing:
        return _Executing(self._cursor(self._conn.executescript, script))

    async def execute_fetchall(self, sql: str, parameters=()) -> list:
        return await self._run(_fetchall, self._conn, sql, parameters)

    async def begin(self, statements: Sequence[tuple[str, Sequence[object]]] = (),
                    durable: bool = False) -> list[int]:
        """BEGIN IMMEDIATE, then ``statements``; their row counts. ``durable``: the commit
        reaches the disk before it returns, whatever ``synchronous`` is configured (in WAL
        mode, ``synchronous = FULL`` syncs the log at the commit; NORMAL only at checkpoints,
        so a power cut may lose the last commits, never a process crash)."""
        if durable and not self._sync_commits:
            self._conn.execute("PRAGMA synchronous=FULL")
            self._durable = True
        try:
            await self._run(self._conn.execute, "BEGIN IMMEDIATE")
            return [self._conn.execute(sql, args).rowcount for sql, args in statements]
        except BaseException:
            self._conn.rollback()
            self._ordinary()
            raise

    def _ordinary(self) -> None:
        """Back to the configured ``synchronous`` after a durable transaction."""
        if self._durable:
            self._durable = False
            self._conn.execute(f"PRAGMA synchronous={self._synchronous}")

    async def commit(self) -> None:
        try:
            if (self._sync_commits or self._durable) and self._conn.in_transaction:
                await _in_thread(self._conn.commit)
            else:
                self._conn.commit()
        finally:
            self._ordinary()

    async def rollback(self) -> None:
        self._conn.rollback()
        self._ordinary()

    async def close(self) -> None:
        await _in_thread(self._conn.close)  # the last to close checkpoints the log


async def _in_thread(fn, *args):
    """``fn(*args)`` in a thread. Cancelled meanwhile, it still waits for the thread to end
    before it lets go: the connection must never be used by two threads at once (the next
    transaction, or closing it, while a BEGIN still waits for a lock in the thread crashes
    the process)."""
    ended = threading.Event()

    @functools.wraps(fn)
    def running():
        try:
            return fn(*args)
        finally:
            ended.set()

    try:
        return await asyncio.to_thread(running)
    except asyncio.CancelledError:
        while not ended.is_set():
            try:
                await asyncio.to_thread(ended.wait, 1.0)
            except asyncio.CancelledError:
                continue
        raise


def _fetchall(conn: sqlite3.Connection, sql: str, parameters) -> list:
    return conn.execute(sql, parameters).fetchall()


# Background checkpoints run this often (seconds); see Database.checkpoint_log. Often enough
# that a burst of writes (5,000 messages a second in bench.core, 3.6 pages each) does not
# take the log past WAL_SIZE_LIMIT, which the first commit after it starts again would
# spend tens of milliseconds cutting down.
CHECKPOINT_INTERVAL = 0.25
# The most pages a checkpoint copies while holding the write lock (about 1 ms of copying);
# a longer rest of the log is copied without it first.
LOCKED_CHECKPOINT_PAGES = 256
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a reset log file is truncated to


class Database:
    """Owns the connections; hands them out for one transaction at a time."""

    def __init__(
        self,
        writer: WriteConnection,
        reader: aiosqlite.Connection,
        path: str,
        checkpointer: aiosqlite.Connection | None = None,
        health: Health | None = None,
    ):
        self._writer = writer
        self._reader = reader
        self._checkpointer = checkpointer
        self._lock = asyncio.Lock()
        self._writers = 0  # write transactions under way or waiting for the lock
        self._began = 0  # write transactions begun so far
        self._no_writers = asyncio.Event()
        self._no_writers.set()
        self.path = path
        # The process's loops report here (``python -m bot health``); the checkpoints too.
        self.health = health or Health()
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
        health: Health | None = None,
    ) -> Database:
        """Open (creating the file and its folder) and bring the schema up to date."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await WriteConnection.connect(path, synchronous, busy_timeout_ms)
        if migrate:
            # On a connection of its own (each step may wait for another process's lock), or
            # on the writer's own database when it is in memory.
            migrator = writer if path == ":memory:" else await _connect(
                path, synchronous, busy_timeout_ms)
            try:
                applied = await apply_migrations(migrator)
            finally:
                if migrator is not writer:
                    await migrator.close()
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
        return cls(writer, reader, path, checkpointer, health)

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
        began = self._began
        _, pages, done = await self.checkpoint()
        for _ in range(3):  # a burst of writes: copy the rest while they go on
            if pages - done <= LOCKED_CHECKPOINT_PAGES:
                break
            began = self._began
            _, pages, done = await self.checkpoint()
        if pages <= 0:  # not a log (-1), or empty
            return pages == 0
        if pages == done and not self._writers and began == self._began:
            return True  # copied to its end with no write under way meanwhile
        # A transaction under way now commits after the copy: the last pass is made with
        # none under way (it copies nothing if nothing came in).
        if pages - done > LOCKED_CHECKPOINT_PAGES:
            return False  # still writing fast: the next round tries again
        async with self._lock:
            _, pages, done = await self.checkpoint()
        return pages == done

    async def _checkpoint_forever(self) -> None:
        health = self.health.loop("checkpoints", "background checkpoints (copying the "
                                  "write-ahead log into the database file)",
                                  every=CHECKPOINT_INTERVAL, logger=log)
        wait = CHECKPOINT_INTERVAL
        while True:
            await asyncio.sleep(wait)
            try:
                await self.checkpoint_log()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a busy database or a full disk: try again later
                wait = max(CHECKPOINT_INTERVAL,
                           health.failed(error, first=CHECKPOINT_INTERVAL, longest=5.0))
            else:
                health.ok()
                wait = CHECKPOINT_INTERVAL

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
        async with self._lock:  # after the write under way (its thread may still wait)
            await self._writer.close()  # the last connection to close checkpoints the log
        self._reader = self._writer = self._checkpointer = None

    @asynccontextmanager
    async def write(self, *, durable: bool = False) -> AsyncIterator[WriteConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        ``durable``: on the disk when the block ends, even with ``synchronous = NORMAL`` (what
        a messenger was told is received: the Zalo inbox)."""
        async with self.write_opening(durable=durable) as (conn, _):
            yield conn

    @asynccontextmanager
    async def write_opening(
        self, *opening: tuple[str, Sequence[object]], durable: bool = False
    ) -> AsyncIterator[tuple[WriteConnection, list[int]]]:
        """A write transaction whose first statements (``(sql, args)``, no rows returned) run
        right after its BEGIN; yields the connection and their row counts.

        Its statements do not wait for a thread: the event loop first runs what else is
        ready, so that a task writing again and again does not keep the others (the
        background checkpoints, the network) waiting.
        """
        self._writers += 1
        self._no_writers.clear()
        try:
            await asyncio.sleep(0)
            async with self._lock:
                self._began += 1
                counts = await self._writer.begin(opening, durable)
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

        For background readers (statistics): their Python work on the event loop delays
        every message waiting to run (and a transaction that waits for a thread, e.g. for
        another process's lock, holds the write lock meanwhile); starting when the writes
        have settled keeps a burst of such work from holding up the dialogs. The limit keeps
        a steady stream of writes from holding the readers up for ever.
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

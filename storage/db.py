"""The database: one write connection (every write goes through it), one read connection.

SQLite in WAL mode lets the read connection see committed data while a write is under way.
All writes of one inbound message happen in one transaction (``async with db.write() as conn``),
so nothing half-written ever reaches the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
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


class Database:
    """Owns the connections; hands them out for one transaction at a time."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: str):
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self.path = path

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
        return cls(writer, reader, path)

    async def close(self) -> None:
        """Close both connections (safe to call twice)."""
        if self._writer is None:
            return
        await self._reader.close()
        await self._writer.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.rollback()
                raise
            else:
                await self._writer.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection for reads; it never sees another task's uncommitted writes."""
        yield self._reader

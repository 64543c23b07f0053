"""Three ways to run a statement, each one trip to the database thread.

aiosqlite runs every call in its own thread, and each trip costs tens of microseconds of
hand-off; ``async with conn.execute(...) as cur: await cur.fetchone()`` takes three trips
(execute, fetch, close). These helpers take one, which is most of the core's time per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import aiosqlite

Args = Sequence[object] | dict[str, object]


async def fetch_all(conn: aiosqlite.Connection, sql: str, args: Args = ()) -> Iterable:
    """Every row of a query (also of ``INSERT/UPDATE … RETURNING``)."""
    return await conn.execute_fetchall(sql, args)


async def fetch_one(conn: aiosqlite.Connection, sql: str, args: Args = ()):
    """The first row of a query, or None."""
    rows = await conn.execute_fetchall(sql, args)
    return rows[0] if rows else None


async def run(conn: aiosqlite.Connection, sql: str, args: Args = ()) -> int:
    """Run a statement that returns no rows; the number of rows it changed."""
    cursor = await conn.execute(sql, args)
    return cursor.rowcount

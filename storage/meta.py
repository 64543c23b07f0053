"""The ``meta`` table: a few key/value facts about the database itself (e.g. "this is a demo")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from storage.query import fetch_all, run

_SELECT = "SELECT key, value FROM meta WHERE key = ? OR key LIKE ?"


async def set_meta(conn: aiosqlite.Connection, key: str, value: object) -> None:
    await run(
        conn,
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


async def meta_group(conn: aiosqlite.Connection, key: str) -> dict[str, str] | None:
    """The rows ``key`` and ``key.*``; None when the database has no meta table (not ours)."""
    try:
        return {row[0]: row[1] for row in await fetch_all(conn, _SELECT, (key, f"{key}.%"))}
    except aiosqlite.OperationalError:
        return None


def read_meta_group(path: str | Path, key: str) -> dict[str, str] | None:
    """``meta_group`` of the database file at ``path``, read-only and without an event loop;
    None when the file is missing, is not a database, or is not ours."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            return dict(conn.execute(_SELECT, (key, f"{key}.%")).fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None

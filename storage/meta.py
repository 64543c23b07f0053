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


# The tables whose rows are someone's work: a database with none of them holds nothing to lose.
_WORK_TABLES = ("areas", "people", "reports", "households")


def is_empty(path: str | Path) -> bool:
    """Whether the file at ``path`` is a database of nothing: an SQLite file with no area,
    person, report or household (only the schema, or not even that). False for a file that
    is not an SQLite database, or has any such row."""
    path = Path(path)
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            return not any(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                           for table in _WORK_TABLES if table in tables)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False

"""Files served at unguessable, short-lived links (charts and spreadsheets for Zalo, whose
``sendPhoto`` takes a URL). The token is 32 random bytes; an expired link answers 404."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import aiosqlite

from storage.clock import iso
from storage.query import fetch_one, run


async def put(conn: aiosqlite.Connection, body: bytes, *, content_type: str, filename: str,
              at: datetime, ttl: timedelta) -> str:
    """Store ``body`` and return its token."""
    token = secrets.token_urlsafe(32)
    await run(conn, "INSERT INTO media (token, content_type, filename, body, created_at,"
              " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
              (token, content_type, filename, body, iso(at), iso(at + ttl)))
    return token


async def get(conn: aiosqlite.Connection, token: str, at: datetime
              ) -> tuple[str, str, bytes] | None:
    """``(content_type, filename, body)`` of a link that has not expired, else None."""
    row = await fetch_one(conn, "SELECT content_type, filename, body FROM media"
                          " WHERE token = ? AND expires_at > ?", (token, iso(at)))
    return (row[0], row[1], bytes(row[2])) if row else None


async def purge(conn: aiosqlite.Connection, at: datetime) -> int:
    """Forget expired files."""
    return await run(conn, "DELETE FROM media WHERE expires_at <= ?", (iso(at),))

"""Files served at unguessable, short-lived links (charts and spreadsheets for Zalo, whose
``sendPhoto`` takes a URL).

A link is ``<token>/<file name>``: the token is 32 random bytes (256 bits) and opens that one
file only; the same token with another name is not found, as an unknown token is. A link
expires after its time to live. A file that names people (``personal``: a household list,
personal data under Decree 13/2023/NĐ-CP) is made with a shorter one, and once downloaded it
lives ``DOWNLOAD_GRACE`` more (a phone's download may fetch it twice), then is gone.
Expired files are removed by :func:`purge`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.clock import iso
from storage.query import fetch_one, run

DOWNLOAD_GRACE = timedelta(minutes=1)  # a personal file after its first download


@dataclass(frozen=True, slots=True)
class Media:
    content_type: str
    filename: str
    body: bytes
    personal: bool


async def put(conn: aiosqlite.Connection, body: bytes, *, content_type: str, filename: str,
              at: datetime, ttl: timedelta, personal: bool = False) -> str:
    """Store ``body`` and return its token."""
    token = secrets.token_urlsafe(32)
    await run(conn, "INSERT INTO media (token, content_type, filename, body, created_at,"
              " expires_at, personal) VALUES (?, ?, ?, ?, ?, ?, ?)",
              (token, content_type, filename, body, iso(at), iso(at + ttl), int(personal)))
    return token


async def get(conn: aiosqlite.Connection, token: str, filename: str, at: datetime
              ) -> Media | None:
    """The file of the link ``token``/``filename`` if it has not expired, else None (also
    for a right token with another file name)."""
    row = await fetch_one(conn, "SELECT content_type, filename, body, personal FROM media"
                          " WHERE token = ? AND filename = ? AND expires_at > ?",
                          (token, filename, iso(at)))
    return Media(row[0], row[1], bytes(row[2]), bool(row[3])) if row else None


async def downloaded(conn: aiosqlite.Connection, token: str, at: datetime) -> None:
    """A personal file was downloaded: it expires ``DOWNLOAD_GRACE`` from now (or sooner)."""
    await run(conn, "UPDATE media SET expires_at = ? WHERE token = ? AND personal = 1"
              " AND expires_at > ?", (iso(at + DOWNLOAD_GRACE), token, iso(at + DOWNLOAD_GRACE)))


async def purge(conn: aiosqlite.Connection, at: datetime) -> int:
    """Forget expired files."""
    return await run(conn, "DELETE FROM media WHERE expires_at <= ?", (iso(at),))

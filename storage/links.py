"""One-time linking codes: one person, several messenger identities (Telegram and Zalo).

An enrolled person asks for a code on one messenger and sends it from another; the second
identity then belongs to the same person. Only the SHA-256 hash of a code is stored, so the
database, its backups and the audit log never hold a live code. (A short code's hash can be
reversed by trying every code, but a code lives minutes and whoever can read the database
could link an identity directly anyway; the hash keeps codes out of casual sight.)

A person has at most one live code: issuing a new one revokes the others. Using a code is one
conditional ``UPDATE`` (unused, not revoked, not expired), so two attempts at once link once.
Wrong codes are remembered per identity for the rate limit (``link.max_wrong_codes``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.audit import Actor, record
from storage.clock import iso, parse_iso
from storage.query import fetch_all, fetch_one, run


@dataclass(frozen=True, slots=True)
class LinkCode:
    id: int
    person_id: int
    channel: str  # where it was issued
    external_id: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


def code_hash(code: str) -> str:
    """The stored form of a normalised code (upper case, no separators)."""
    return hashlib.sha256(code.encode("ascii", "ignore")).hexdigest()


async def issue_code(
    conn: aiosqlite.Connection, *, code: str, person_id: int, channel: str, external_id: str,
    expires_at: datetime, actor: Actor, at: datetime,
) -> int:
    """Store a new code for ``person_id``, revoking their codes not yet used; its id."""
    await run(conn, "UPDATE link_codes SET revoked_at = ? WHERE person_id = ?"
              " AND used_at IS NULL AND revoked_at IS NULL", (iso(at), person_id))
    (code_id,) = await fetch_one(
        conn,
        "INSERT INTO link_codes (code_hash, person_id, channel, external_id, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (code_hash(code), person_id, channel, external_id, iso(at), iso(expires_at)),
    )
    await record(conn, actor=actor, action="create", entity="link_code", entity_id=code_id,
                 at=at, after={"person_id": person_id, "expires_at": iso(expires_at)})
    return code_id


async def find_code(conn: aiosqlite.Connection, code: str) -> LinkCode | None:
    row = await fetch_one(
        conn,
        "SELECT id, person_id, channel, external_id, expires_at, used_at, revoked_at"
        " FROM link_codes WHERE code_hash = ?", (code_hash(code),))
    if row is None:
        return None
    return LinkCode(row[0], row[1], row[2], row[3], parse_iso(row[4]),
                    parse_iso(row[5]) if row[5] else None, parse_iso(row[6]) if row[6] else None)


async def claim_code(
    conn: aiosqlite.Connection, code_id: int, *, channel: str, external_id: str,
    actor: Actor, at: datetime,
) -> bool:
    """Mark the code used by (``channel``, ``external_id``); False if it was used, revoked or
    expired meanwhile."""
    claimed = await run(
        conn,
        "UPDATE link_codes SET used_at = ?, used_channel = ?, used_external_id = ?"
        " WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
        (iso(at), channel, external_id, code_id, iso(at)),
    ) == 1
    if claimed:
        await record(conn, actor=actor, action="use", entity="link_code", entity_id=code_id,
                     at=at, after={"channel": channel, "external_id": external_id})
    return claimed


async def note_wrong_code(conn: aiosqlite.Connection, channel: str, external_id: str,
                          at: datetime, forget_before: datetime) -> None:
    """Remember a wrong code from this identity (and forget its ones older than the window)."""
    await run(conn, "DELETE FROM link_failures WHERE channel = ? AND external_id = ?"
              " AND at < ?", (channel, external_id, iso(forget_before)))
    await run(conn, "INSERT INTO link_failures (channel, external_id, at) VALUES (?, ?, ?)",
              (channel, external_id, iso(at)))


async def wrong_codes_since(conn: aiosqlite.Connection, channel: str, external_id: str,
                            since: datetime) -> list[datetime]:
    """When this identity sent wrong codes since ``since``, oldest first."""
    rows = await fetch_all(conn, "SELECT at FROM link_failures WHERE channel = ?"
                           " AND external_id = ? AND at >= ? ORDER BY at",
                           (channel, external_id, iso(since)))
    return [parse_iso(r[0]) for r in rows]


async def unlink_identity(
    conn: aiosqlite.Connection, person_id: int, channel: str, external_id: str, *,
    actor: Actor, at: datetime,
) -> bool:
    """Remove one identity of ``person_id``, never their last one; False if nothing removed."""
    removed = await run(
        conn,
        "DELETE FROM identities WHERE channel = ? AND external_id = ? AND person_id = ?"
        " AND (SELECT count(*) FROM identities WHERE person_id = ?) > 1",
        (channel, external_id, person_id, person_id),
    ) == 1
    if removed:
        await run(conn, "DELETE FROM dialogs WHERE channel = ? AND sender_id = ?",
                  (channel, external_id))
        await record(conn, actor=actor, action="unlink", entity="identity",
                     entity_id=f"{channel}:{external_id}", at=at,
                     before={"person_id": person_id})
    return removed

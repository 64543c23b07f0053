"""One-time invite codes: a role over an area, with an expiry, usable once.

Wrong codes are remembered per messenger account (``invite_failures``) for the throttles of
``handlers/enrol.py``; rows older than the longest look back are forgotten as new ones come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.audit import Actor, record
from storage.clock import iso, parse_iso
from storage.query import fetch_all, fetch_one, run


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    role: str
    area_id: int
    full_name: str
    expires_at: datetime
    used_at: datetime | None
    created_by: str = ""  # the audit label of who made it: "cli:root", "telegram:12345"


async def create_invite(
    conn: aiosqlite.Connection,
    *,
    code: str,
    role: str,
    area_id: int,
    full_name: str,
    expires_at: datetime,
    actor: Actor,
    at: datetime,
) -> None:
    await run(
        conn,
        "INSERT INTO invites (code, role, area_id, full_name, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code, role, area_id, full_name, actor.label, iso(at), iso(expires_at)),
    )
    await record(
        conn, actor=actor, action="create", entity="invite", entity_id=code, at=at,
        after={"role": role, "area_id": area_id, "full_name": full_name,
               "expires_at": iso(expires_at)},
    )


async def get_invite(conn: aiosqlite.Connection, code: str) -> Invite | None:
    row = await fetch_one(
        conn,
        "SELECT code, role, area_id, full_name, expires_at, used_at, created_by FROM invites"
        " WHERE code = ?",
        (code,),
    )
    if row is None:
        return None
    return Invite(
        row[0], row[1], row[2], row[3], parse_iso(row[4]), parse_iso(row[5]) if row[5] else None,
        row[6] or "",
    )


async def claim_invite(
    conn: aiosqlite.Connection, code: str, person_id: int, *, actor: Actor, at: datetime
) -> bool:
    """Mark the invite used by ``person_id``; False if it was used or expired meanwhile."""
    claimed = await run(
        conn,
        "UPDATE invites SET used_at = ?, used_by = ?"
        " WHERE code = ? AND used_at IS NULL AND expires_at > ?",
        (iso(at), person_id, code, iso(at)),
    )
    claimed = claimed == 1
    if claimed:
        await record(
            conn, actor=actor, action="use", entity="invite", entity_id=code, at=at,
            after={"used_by": person_id},
        )
    return claimed


async def list_invites(conn: aiosqlite.Connection) -> list[dict]:
    rows = await fetch_all(
        conn,
        "SELECT i.code, i.role, a.name AS area, i.full_name, i.expires_at, i.used_at"
        " FROM invites i JOIN areas a ON a.id = i.area_id ORDER BY i.created_at DESC"
    )
    return [dict(r) for r in rows]


async def note_wrong_invite(conn: aiosqlite.Connection, channel: str, external_id: str,
                            at: datetime, forget_before: datetime) -> None:
    """Remember a wrong invite code from this account; forget every one (of any account)
    older than ``forget_before``."""
    await run(conn, "DELETE FROM invite_failures WHERE at < ?", (iso(forget_before),))
    await run(conn, "INSERT INTO invite_failures (channel, external_id, at) VALUES (?, ?, ?)",
              (channel, external_id, iso(at)))


async def wrong_invites_since(conn: aiosqlite.Connection, channel: str, external_id: str,
                              since: datetime) -> list[datetime]:
    """When this account sent wrong invite codes since ``since``, oldest first."""
    rows = await fetch_all(conn, "SELECT at FROM invite_failures WHERE channel = ?"
                           " AND external_id = ? AND at >= ? ORDER BY at",
                           (channel, external_id, iso(since)))
    return [parse_iso(r[0]) for r in rows]


async def wrong_invites_overall(conn: aiosqlite.Connection, since: datetime) -> int:
    """How many wrong invite codes all accounts together sent since ``since``."""
    row = await fetch_one(conn, "SELECT count(*) FROM invite_failures WHERE at >= ?",
                          (iso(since),))
    return row[0]

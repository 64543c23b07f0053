"""People, their messenger identities, and roles scoped to an area."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.areas import Area
from storage.audit import Actor, record
from storage.clock import iso
from storage.query import fetch_all, fetch_one, run

ROLES = ("village_head", "officer", "admin")


@dataclass(frozen=True, slots=True)
class Role:
    role: str
    area: Area


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    full_name: str
    active: bool
    roles: tuple[Role, ...] = field(default=())

    def has_role(self, *names: str) -> bool:
        return any(r.role in names for r in self.roles)

    def scopes(self) -> tuple[Area, ...]:
        """The areas this person may see and act on (each with everything under it)."""
        return tuple(r.area for r in self.roles)

    def can_see(self, area: Area) -> bool:
        return any(scope.contains(area) for scope in self.scopes())

    def can_report_for(self, area: Area) -> bool:
        """Village heads report for their own village; officers and admins for their area."""
        for r in self.roles:
            if r.role == "village_head" and r.area.id == area.id:
                return True
            if r.role in ("officer", "admin") and r.area.contains(area):
                return True
        return False

    def can_override_lock(self, area: Area) -> bool:
        return any(r.role in ("officer", "admin") and r.area.contains(area) for r in self.roles)


async def create_person(
    conn: aiosqlite.Connection, full_name: str, *, actor: Actor, at: datetime,
    phone: str | None = None,
) -> int:
    (person_id,) = await fetch_one(
        conn,
        "INSERT INTO people (full_name, phone, created_at) VALUES (?, ?, ?) RETURNING id",
        (full_name, phone, iso(at)),
    )
    await record(
        conn, actor=actor, action="create", entity="person", entity_id=person_id, at=at,
        after={"full_name": full_name},
    )
    return person_id


async def link_identity(
    conn: aiosqlite.Connection,
    person_id: int,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    actor: Actor,
    at: datetime,
) -> None:
    await run(
        conn,
        "INSERT INTO identities"
        " (channel, external_id, person_id, chat_id, display_name, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (channel, external_id, person_id, chat_id, display_name, iso(at), iso(at)),
    )
    await record(
        conn, actor=actor, action="link", entity="identity", entity_id=f"{channel}:{external_id}",
        at=at, after={"person_id": person_id, "display_name": display_name},
    )


async def grant_role(
    conn: aiosqlite.Connection, person_id: int, role: str, area: Area, *, actor: Actor,
    at: datetime,
) -> bool:
    """Give ``person_id`` the ``role`` over ``area``; False if they already had it."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    added = await run(
        conn,
        "INSERT INTO roles (person_id, role, area_id, granted_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (person_id, role, area_id) DO NOTHING",
        (person_id, role, area.id, iso(at)),
    )
    added = added == 1
    if added:
        await record(
            conn, actor=actor, action="grant", entity="role", entity_id=person_id, at=at,
            after={"role": role, "area_id": area.id, "area": area.name},
        )
    return added


# A person with every active role and its area, in one query (one trip to the database).
_PERSON_SQL = (
    "SELECT p.id, p.full_name, p.active, r.role, a.id, a.parent_id, a.level, a.name, a.code,"
    " a.urban, a.path FROM people p"
    " LEFT JOIN roles r ON r.person_id = p.id AND r.revoked_at IS NULL"
    " LEFT JOIN areas a ON a.id = r.area_id"
)


def _person(rows) -> Person | None:
    if not rows:
        return None
    first = rows[0]
    roles = tuple(
        Role(r[3], Area(r[4], r[5], r[6], r[7], r[8], bool(r[9]), r[10]))
        for r in rows if r[3] is not None
    )
    return Person(first[0], first[1], bool(first[2]), roles)


async def get_person(conn: aiosqlite.Connection, person_id: int) -> Person | None:
    return _person(await fetch_all(conn, _PERSON_SQL + " WHERE p.id = ? ORDER BY r.id",
                                   (person_id,)))


async def person_by_identity(
    conn: aiosqlite.Connection, channel: str, external_id: str
) -> Person | None:
    return _person(await fetch_all(
        conn,
        _PERSON_SQL + " WHERE p.id = (SELECT person_id FROM identities"
        " WHERE channel = ? AND external_id = ?) ORDER BY r.id",
        (channel, external_id),
    ))


async def touch_identity(conn: aiosqlite.Connection, channel: str, external_id: str,
                         at: datetime) -> None:
    """The person wrote from this identity: it is the one they use now, and a person who
    writes has not blocked the bot (any more)."""
    await run(conn, "UPDATE identities SET last_seen_at = ?, blocked_at = NULL"
              " WHERE channel = ? AND external_id = ?", (iso(at), channel, external_id))


_UNBLOCK = ("UPDATE identities SET blocked_at = NULL WHERE channel = ? AND external_id = ?"
            " AND blocked_at IS NOT NULL")


def unblock_statement(channel: str, external_id: str) -> tuple[str, tuple]:
    """The identity wrote: it has not blocked the bot (any more). A statement for
    ``Database.write_opening``, so that every message clears the mark without a trip of its
    own (it changes nothing, and writes nothing, unless the identity was marked)."""
    return _UNBLOCK, (channel, external_id)


async def list_people(conn: aiosqlite.Connection, within: Area | None = None) -> list[dict]:
    """People with a role in ``within`` (or anywhere), with their roles and identities."""
    sql = (
        "SELECT p.id, p.full_name, r.role, a.name, a.level,"
        " (SELECT group_concat(i.channel || ':' || i.external_id, ', ') FROM identities i"
        "   WHERE i.person_id = p.id) AS identities"
        " FROM people p JOIN roles r ON r.person_id = p.id AND r.revoked_at IS NULL"
        " JOIN areas a ON a.id = r.area_id WHERE a.path LIKE ? ORDER BY p.full_name, p.id"
    )
    rows = await fetch_all(conn, sql, ((within.path if within else "/") + "%",))
    return [dict(r) for r in rows]


async def identities_of(conn: aiosqlite.Connection, person_id: int) -> list[dict]:
    rows = await fetch_all(
        conn,
        "SELECT channel, external_id, chat_id, display_name, last_seen_at FROM identities"
        " WHERE person_id = ? ORDER BY last_seen_at DESC",
        (person_id,),
    )
    return [dict(r) for r in rows]

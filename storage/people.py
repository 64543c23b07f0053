"""People, their messenger identities, and roles scoped to an area."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.areas import Area
from storage.audit import Actor, record
from storage.clock import iso

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
    async with conn.execute(
        "INSERT INTO people (full_name, phone, created_at) VALUES (?, ?, ?) RETURNING id",
        (full_name, phone, iso(at)),
    ) as cur:
        (person_id,) = await cur.fetchone()
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
    await conn.execute(
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
    async with conn.execute(
        "INSERT INTO roles (person_id, role, area_id, granted_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (person_id, role, area_id) DO NOTHING",
        (person_id, role, area.id, iso(at)),
    ) as cur:
        added = cur.rowcount == 1
    if added:
        await record(
            conn, actor=actor, action="grant", entity="role", entity_id=person_id, at=at,
            after={"role": role, "area_id": area.id, "area": area.name},
        )
    return added


_ROLE_SQL = (
    "SELECT r.role, a.id, a.parent_id, a.level, a.name, a.code, a.urban, a.path"
    " FROM roles r JOIN areas a ON a.id = r.area_id"
    " WHERE r.person_id = ? AND r.revoked_at IS NULL ORDER BY r.id"
)


async def _roles(conn: aiosqlite.Connection, person_id: int) -> tuple[Role, ...]:
    async with conn.execute(_ROLE_SQL, (person_id,)) as cur:
        rows = await cur.fetchall()
    return tuple(
        Role(r[0], Area(r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7])) for r in rows
    )


async def get_person(conn: aiosqlite.Connection, person_id: int) -> Person | None:
    async with conn.execute(
        "SELECT id, full_name, active FROM people WHERE id = ?", (person_id,)
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Person(row[0], row[1], bool(row[2]), await _roles(conn, row[0]))


async def person_by_identity(
    conn: aiosqlite.Connection, channel: str, external_id: str
) -> Person | None:
    async with conn.execute(
        "SELECT p.id, p.full_name, p.active FROM identities i"
        " JOIN people p ON p.id = i.person_id WHERE i.channel = ? AND i.external_id = ?",
        (channel, external_id),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Person(row[0], row[1], bool(row[2]), await _roles(conn, row[0]))


async def list_people(conn: aiosqlite.Connection, within: Area | None = None) -> list[dict]:
    """People with a role in ``within`` (or anywhere), with their roles and identities."""
    sql = (
        "SELECT p.id, p.full_name, r.role, a.name, a.level,"
        " (SELECT group_concat(i.channel || ':' || i.external_id, ', ') FROM identities i"
        "   WHERE i.person_id = p.id) AS identities"
        " FROM people p JOIN roles r ON r.person_id = p.id AND r.revoked_at IS NULL"
        " JOIN areas a ON a.id = r.area_id WHERE a.path LIKE ? ORDER BY p.full_name, p.id"
    )
    async with conn.execute(sql, ((within.path if within else "/") + "%",)) as cur:
        return [dict(r) for r in await cur.fetchall()]


async def identities_of(conn: aiosqlite.Connection, person_id: int) -> list[dict]:
    async with conn.execute(
        "SELECT channel, external_id, chat_id, display_name, last_seen_at FROM identities"
        " WHERE person_id = ? ORDER BY last_seen_at DESC",
        (person_id,),
    ) as cur:
        return [dict(r) for r in await cur.fetchall()]

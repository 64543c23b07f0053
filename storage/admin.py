"""Queries and small changes the operator's command line needs (``python -m bot ...``)."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from storage.areas import _COLUMNS, Area, _area
from storage.audit import Actor, record


async def areas_by_code(conn: aiosqlite.Connection, code: str) -> list[Area]:
    """The areas of any level whose official code is ``code``."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM areas WHERE code = ? AND retired_at IS NULL ORDER BY path",
        (code,),
    ) as cur:
        return [_area(r) for r in await cur.fetchall()]


async def set_area_urban(
    conn: aiosqlite.Connection, area: Area, urban: bool, *, actor: Actor, at: datetime
) -> Area:
    """Mark ``area`` urban or rural and record the change in the audit log."""
    await conn.execute("UPDATE areas SET urban = ? WHERE id = ?", (int(urban), area.id))
    await record(
        conn, actor=actor, action="update", entity="area", entity_id=area.id, at=at,
        before={"urban": area.urban}, after={"urban": urban},
    )
    return Area(area.id, area.parent_id, area.level, area.name, area.code, urban, area.path)


async def applied_migrations(conn: aiosqlite.Connection) -> list[dict]:
    """The migrations recorded in the database (none when it was never migrated)."""
    try:
        async with conn.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]
    except aiosqlite.OperationalError:  # no schema_migrations table yet
        return []


async def audit_entries(
    conn: aiosqlite.Connection,
    *,
    entity: str | None = None,
    entity_id: object = None,
    limit: int = 50,
) -> list[dict]:
    """The newest ``limit`` audit entries, newest first, optionally of one entity (and id)."""
    sql = "SELECT * FROM audit_log"
    where, args = [], []
    if entity is not None:
        where.append("entity = ?")
        args.append(entity)
    if entity_id is not None:
        where.append("entity_id = ?")
        args.append(str(entity_id))
    if where:
        sql += " WHERE " + " AND ".join(where)
    args.append(limit)
    async with conn.execute(sql + " ORDER BY id DESC LIMIT ?", args) as cur:
        rows = await cur.fetchall()
    out = []
    for row in rows:
        item = dict(row)
        for key in ("before", "after"):
            item[key] = None if item[key] is None else json.loads(item[key])
        out.append(item)
    return out

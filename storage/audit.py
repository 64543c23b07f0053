"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.query import fetch_all, run


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a person (chat) or an operator at the command line."""

    person_id: int | None
    label: str  # "telegram:12345", "console:2", "cli:root"


def _dump(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


async def record(
    conn: aiosqlite.Connection,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    at: datetime,
    before: object = None,
    after: object = None,
) -> None:
    await run(
        conn,
        "INSERT INTO audit_log"
        " (at, actor_person_id, actor, action, entity, entity_id, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            iso(at),
            actor.person_id,
            actor.label,
            action,
            entity,
            str(entity_id),
            _dump(before),
            _dump(after),
        ),
    )


async def entries(
    conn: aiosqlite.Connection,
    entity: str | None = None,
    entity_id: object = None,
    *,
    limit: int | None = None,
) -> list[dict]:
    """Audit entries, optionally of one entity (and id); oldest first, or with ``limit`` the
    newest ``limit`` entries, newest first."""
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
    if limit is None:
        sql += " ORDER BY id"
    else:
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
    rows = await fetch_all(conn, sql, args)
    out = []
    for row in rows:
        item = dict(row)
        for key in ("before", "after"):
            item[key] = None if item[key] is None else json.loads(item[key])
        out.append(item)
    return out

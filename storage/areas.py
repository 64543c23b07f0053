"""The area tree: provinces, communes, villages (any depth), with materialised paths.

``path`` is ``/1/7/42/`` (the ids from the root down), so "an area and everything under it" is
``path LIKE '/1/7/%'`` in any SQL database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from common.text import fold, visible
from storage.audit import Actor, record
from storage.clock import iso
from storage.query import fetch_all, fetch_one, run


@dataclass(frozen=True, slots=True)
class Area:
    id: int
    parent_id: int | None
    level: str
    name: str
    code: str | None
    urban: bool
    path: str

    def contains(self, other: Area) -> bool:
        """True when ``other`` is this area or lies under it."""
        return other.path.startswith(self.path)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "level": self.level,
            "name": self.name,
            "code": self.code,
            "urban": self.urban,
        }


_COLUMNS = "id, parent_id, level, name, code, urban, path"


def _area(row) -> Area:
    return Area(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])


async def add_area(
    conn: aiosqlite.Connection,
    *,
    parent: Area | None,
    level: str,
    name: str,
    code: str | None = None,
    urban: bool = False,
    actor: Actor,
    at: datetime,
) -> Area:
    """Create an area under ``parent`` (``None`` for a root) and record it in the audit log."""
    name = visible(name)  # no invisible marks: a name that looks the same is the same
    (area_id,) = await fetch_one(
        conn,
        "INSERT INTO areas (parent_id, level, name, name_folded, code, urban, path, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '', ?) RETURNING id",
        (parent.id if parent else None, level, name, fold(name), code, int(urban), iso(at)),
    )
    path = f"{parent.path if parent else '/'}{area_id}/"
    await run(conn, "UPDATE areas SET path = ? WHERE id = ?", (path, area_id))
    area = Area(area_id, parent.id if parent else None, level, name, code, urban, path)
    await record(
        conn, actor=actor, action="create", entity="area", entity_id=area_id, at=at,
        after=area.as_dict(),
    )
    return area


async def get_area(conn: aiosqlite.Connection, area_id: int) -> Area | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM areas WHERE id = ?", (area_id,))
    return _area(row) if row else None


async def area_by_code(conn: aiosqlite.Connection, level: str, code: str) -> Area | None:
    row = await fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM areas WHERE level = ? AND code = ?", (level, code)
    )
    return _area(row) if row else None


async def child_by_name(
    conn: aiosqlite.Connection, parent: Area | None, name: str
) -> Area | None:
    """The child of ``parent`` whose name matches ``name`` ignoring diacritics and case."""
    if parent is None:
        sql, args = "parent_id IS NULL AND name_folded = ?", (fold(name),)
    else:
        sql, args = "parent_id = ? AND name_folded = ?", (parent.id, fold(name))
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM areas WHERE {sql}", args)
    return _area(row) if row else None


async def children(conn: aiosqlite.Connection, parent: Area | None) -> list[Area]:
    if parent is None:
        sql, args = "parent_id IS NULL", ()
    else:
        sql, args = "parent_id = ?", (parent.id,)
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM areas WHERE {sql} AND retired_at IS NULL ORDER BY name_folded",
        args,
    )
    return [_area(r) for r in rows]


async def subtree(
    conn: aiosqlite.Connection, root: Area | None, level: str | None = None
) -> list[Area]:
    """Every area under ``root`` (itself included; all areas when ``root`` is None)."""
    sql = f"SELECT {_COLUMNS} FROM areas WHERE retired_at IS NULL AND path LIKE ?"
    args: list = [(root.path if root else "/") + "%"]
    if level is not None:
        sql += " AND level = ?"
        args.append(level)
    rows = await fetch_all(conn, sql + " ORDER BY path", args)
    return [_area(r) for r in rows]


async def find_areas(
    conn: aiosqlite.Connection,
    query: str,
    *,
    within: Area | None = None,
    level: str | None = None,
    limit: int = 20,
) -> list[Area]:
    """Areas whose name contains ``query`` ignoring diacritics, best (exact) matches first;
    none for a query with nothing to look for (empty, spaces, invisible marks). ``%`` and
    ``_`` typed are themselves, not LIKE's wildcards."""
    needle = fold(query)
    if not needle:
        return []
    pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sql = (
        f"SELECT {_COLUMNS} FROM areas WHERE retired_at IS NULL"
        " AND name_folded LIKE ? ESCAPE '\\' AND path LIKE ?"
    )
    args: list = [f"%{pattern}%", (within.path if within else "/") + "%"]
    if level is not None:
        sql += " AND level = ?"
        args.append(level)
    sql += " ORDER BY CASE WHEN name_folded = ? THEN 0 ELSE 1 END, name_folded LIMIT ?"
    args += [needle, limit]
    rows = await fetch_all(conn, sql, args)
    return [_area(r) for r in rows]


async def ancestors(conn: aiosqlite.Connection, area: Area) -> list[Area]:
    """The areas above ``area``, from the root down (itself excluded)."""
    ids = [int(x) for x in area.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await fetch_all(conn, f"SELECT {_COLUMNS} FROM areas WHERE id IN ({marks})", ids)
    found = {a.id: a for a in map(_area, rows)}
    return [found[i] for i in ids if i in found]


async def areas_by_code(conn: aiosqlite.Connection, code: str) -> list[Area]:
    """The areas of any level whose official code is ``code``."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM areas WHERE code = ? AND retired_at IS NULL ORDER BY path",
        (code,),
    )
    return [_area(r) for r in rows]


async def set_area_urban(
    conn: aiosqlite.Connection, area: Area, urban: bool, *, actor: Actor, at: datetime
) -> Area:
    """Mark ``area`` urban or rural and record the change in the audit log."""
    await run(conn, "UPDATE areas SET urban = ? WHERE id = ?", (int(urban), area.id))
    await record(
        conn, actor=actor, action="update", entity="area", entity_id=area.id, at=at,
        before={"urban": area.urban}, after={"urban": urban},
    )
    return Area(area.id, area.parent_id, area.level, area.name, area.code, urban, area.path)

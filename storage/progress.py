"""Who has filed what, and who is to be told: the queries behind reminders and ``/lich``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from storage.query import fetch_all


@dataclass(frozen=True, slots=True)
class Holder:
    """A person holding ``role`` over the area ``area_id``."""

    person_id: int
    full_name: str
    role: str
    area_id: int


def _marks(items: list) -> str:
    return ",".join("?" * len(items))


async def filed_areas(conn: aiosqlite.Connection, form: str, period: str,
                      area_ids: Iterable[int]) -> set[int]:
    """The areas among ``area_ids`` with a report ``form`` for ``period`` (any version)."""
    ids = list(area_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        rows = await fetch_all(
            conn,
            f"SELECT area_id FROM reports WHERE form = ? AND period = ?"
            f" AND area_id IN ({_marks(chunk)})", (form, period, *chunk))
        found.update(r[0] for r in rows)
    return found


async def filed_under(conn: aiosqlite.Connection, form: str, period: str, path: str
                      ) -> dict[int, str]:
    """Reports ``form``/``period`` of the areas under ``path``: area id -> first filed at."""
    rows = await fetch_all(
        conn,
        "SELECT r.area_id, r.created_at FROM reports r JOIN areas a ON a.id = r.area_id"
        " WHERE r.form = ? AND r.period = ? AND a.path LIKE ?", (form, period, path + "%"))
    return {r[0]: r[1] for r in rows}


async def role_holders(conn: aiosqlite.Connection, roles: tuple[str, ...],
                       path: str = "/") -> list[Holder]:
    """Active people holding one of ``roles`` over an area under ``path``."""
    rows = await fetch_all(
        conn,
        f"SELECT p.id, p.full_name, r.role, r.area_id FROM roles r"
        f" JOIN people p ON p.id = r.person_id JOIN areas a ON a.id = r.area_id"
        f" WHERE r.revoked_at IS NULL AND p.active = 1 AND r.role IN ({_marks(list(roles))})"
        f" AND a.path LIKE ? ORDER BY p.id, a.path", (*roles, path + "%"))
    return [Holder(*r) for r in rows]


async def holders_at(conn: aiosqlite.Connection, roles: tuple[str, ...],
                     area_ids: Iterable[int]) -> list[Holder]:
    """Active people holding one of ``roles`` over exactly one of ``area_ids`` (a village's
    heads, or the officers of the areas above a village)."""
    ids = list(area_ids)
    if not ids:
        return []
    rows = await fetch_all(
        conn,
        f"SELECT p.id, p.full_name, r.role, r.area_id FROM roles r"
        f" JOIN people p ON p.id = r.person_id"
        f" WHERE r.revoked_at IS NULL AND p.active = 1 AND r.role IN ({_marks(list(roles))})"
        f" AND r.area_id IN ({_marks(ids)}) ORDER BY p.id", (*roles, *ids))
    return [Holder(*r) for r in rows]

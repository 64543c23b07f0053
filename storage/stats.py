"""The queries behind officers' statistics: read-only, on the read connection.

Every query takes an area's materialised path (``/1/7/``) and covers the villages under it,
so the same SQL answers for a commune (20 villages) or a province (3,000). Figures come from
``village_monthly`` (the current version of each monthly report, typed).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.query import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Sums:
    """The figures of the villages under one child area (``child`` is its id as text; empty
    for the area itself when it is a village) as of ``month``."""

    month: str
    child: str
    villages: int  # villages counted (with a report at most ``carry`` months old)
    total: int
    poor: int
    near_poor: int
    em_poor: int
    loans: int
    reported: int  # villages whose own report of ``month`` is in
    on_time: int  # of those, first filed before the month's cutoff
    support_vnd: int  # mobilised in ``month`` (their own reports of it)


# The areas under a path, as a range of the ``areas_path`` index (LIKE would scan the table):
# every path that starts with "/1/7/" sorts from "/1/7/" up to, not including, "/1/70".
_UNDER = "a.path >= ? AND a.path < ?"


def _under(path: str) -> tuple[str, str]:
    return path, path[:-1] + chr(ord(path[-1]) + 1)


async def sums(conn: aiosqlite.Connection, path: str,
               months: list[tuple[str, str]]) -> list[Sums]:
    """For each (month, cutoff) the figures by child area of the villages under ``path``, as
    they count that month (``village_effective``); "on time" is first filed before the cutoff
    (an ISO time in UTC). One range of the primary key per month, summed in SQLite."""
    values = ", ".join("(?, ?)" for _ in months)
    start = len(path) + 1  # the child's id follows the area's own path
    rows = await fetch_all(
        conn,
        f"WITH months(m, cutoff) AS (VALUES {values})"
        " SELECT e.month, substr(e.path, ?, instr(substr(e.path, ?), '/') - 1) AS child,"
        " count(*), sum(e.total), sum(e.poor), sum(e.near_poor), sum(e.em_poor), sum(e.loans),"
        " sum(CASE WHEN e.period = e.month THEN 1 ELSE 0 END),"
        " sum(CASE WHEN e.period = e.month AND e.filed_at < months.cutoff THEN 1 ELSE 0 END),"
        " sum(e.support_vnd)"
        " FROM months CROSS JOIN village_effective e ON e.month = months.m"
        " AND e.path >= ? AND e.path < ? GROUP BY e.month, child",
        (*[x for pair in months for x in pair], start, start, *_under(path)))
    return [Sums(*r) for r in rows]


async def village_counts(conn: aiosqlite.Connection, path: str, level: str
                         ) -> dict[str, int]:
    """Villages (areas of ``level``) under ``path`` by child area id (as text; "" for the
    area itself)."""
    start = len(path) + 1
    rows = await fetch_all(
        conn,
        "SELECT substr(a.path, ?, instr(substr(a.path, ?), '/') - 1) AS child, count(*)"
        f" FROM areas a WHERE {_UNDER} AND a.level = ? AND a.retired_at IS NULL"
        " GROUP BY child", (start, start, *_under(path), level))
    return {r[0]: r[1] for r in rows}


async def first_month_with_data(conn: aiosqlite.Connection, path: str, level: str,
                                first: str, last: str) -> str | None:
    """The earliest month from ``first`` to ``last`` with a village report under ``path``."""
    row = await fetch_one(
        conn,
        "SELECT min(vm.period) FROM village_monthly vm"
        " JOIN areas a ON a.id = vm.area_id"
        f" WHERE vm.period BETWEEN ? AND ? AND {_UNDER} AND a.level = ?",
        (first, last, *_under(path), level))
    return row[0] if row else None


@dataclass(frozen=True, slots=True)
class FiledReport:
    area_id: int
    period: str
    first_filed_at: str  # ISO, UTC: when the first version came in
    submitted_by: str | None  # who sent the current version
    submitted_at: str


async def filed_reports(conn: aiosqlite.Connection, form: str, first: str, last: str,
                        path: str) -> list[FiledReport]:
    """Reports ``form`` of periods ``first``..``last`` of the areas under ``path``."""
    rows = await fetch_all(
        conn,
        "SELECT r.area_id, r.period, r.created_at, p.full_name, v.submitted_at FROM areas a"
        " CROSS JOIN reports r ON r.area_id = a.id"
        " JOIN report_versions v ON v.report_id = r.id AND v.version = r.version"
        " LEFT JOIN people p ON p.id = v.submitted_by"
        f" WHERE {_UNDER} AND r.form = ? AND r.period BETWEEN ? AND ?",
        (*_under(path), form, first, last))
    return [FiledReport(*r) for r in rows]


async def monthly_rows(conn: aiosqlite.Connection, path: str, first: str, last: str
                       ) -> list[dict]:
    """Every column of the monthly reports of months ``first``..``last`` under ``path``."""
    rows = await fetch_all(
        conn,
        "SELECT vm.* FROM areas a CROSS JOIN village_monthly vm ON vm.area_id = a.id"
        f" WHERE {_UNDER} AND vm.period BETWEEN ? AND ?", (*_under(path), first, last))
    return [dict(r) for r in rows]


async def registration_counts(conn: aiosqlite.Connection, path: str, first_day: str,
                              last_day: str) -> list[tuple[str, str, int]]:
    """(child area id as text, state, count) of the exit registrations made ``first_day`` …
    ``last_day`` (``YYYY-MM-DD``) by households under ``path``."""
    start = len(path) + 1
    rows = await fetch_all(
        conn,
        "SELECT substr(a.path, ?, instr(substr(a.path, ?), '/') - 1) AS child, r.state,"
        " count(*) FROM exit_registrations r"
        " JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.village_id"
        f" WHERE {_UNDER} AND r.registered_on BETWEEN ? AND ? GROUP BY child, r.state",
        (start, start, *_under(path), first_day, last_day))
    return [(r[0], r[1], r[2]) for r in rows]


async def households_under(conn: aiosqlite.Connection, path: str) -> list[dict]:
    """The households of every village under ``path``, by village and code."""
    rows = await fetch_all(
        conn,
        "SELECT h.village_id, h.code, h.head_name, h.status, h.status_since,"
        " h.ethnic_minority, h.no_work_capacity, h.has_merit, h.has_loan FROM households h"
        f" JOIN areas a ON a.id = h.village_id WHERE {_UNDER}"
        " ORDER BY a.path, length(h.code), h.code", _under(path))
    return [dict(r) for r in rows]

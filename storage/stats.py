"""The queries behind officers' statistics: read-only, on the read connection.

Every query takes an area's materialised path (``/1/7/``), or the paths of its child areas
(``Group``), and covers the villages under them, so the same SQL answers for a village, a
commune (20 villages) or a province (3,000). Figures come from ``village_effective`` (each
village as it counts for each month: storage/effective.py), the flows and notes of a month
from ``village_monthly`` (the current version of each monthly report, typed). Plain SQL that
PostgreSQL runs too: VALUES lists, ranges of paths, no string functions on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.query import fetch_all, fetch_one


@dataclass(frozen=True, slots=True)
class Sums:
    """The figures of the villages of one group (a child area, or the area itself: see
    ``Group``) as of ``month``."""

    month: str
    child: int  # the group's key
    villages: int  # villages counted (with a report at most ``carry`` months old)
    total: int
    poor: int
    near_poor: int
    em_poor: int
    loans: int
    reported: int  # villages whose own report of ``month`` is in
    on_time: int  # of those, first filed before the month's cutoff
    support_vnd: int  # mobilised in ``month`` (their own reports of it)
    carried_oldest: str | None  # of the villages counted with an older report: the oldest
    carried_latest: str | None  # … and the latest of those reports (None: none carried)


# A group of villages: (key, path), the villages under ``path``. Questions about an area sum
# by its child areas (one group each) or, for a village, by the village itself. Each group is
# a range of the paths (see ``_under``) given as a row of a VALUES list, so every sum is a seek
# per month and group in the primary key or the ``areas_path`` index, in portable SQL (no
# string functions on the paths).
Group = tuple[int, str]

# The areas under a path, as a range of the ``areas_path`` index (LIKE would scan the table):
# every path that starts with "/1/7/" sorts from "/1/7/" up to, not including, "/1/70".
_UNDER = "a.path >= ? AND a.path < ?"


def _under(path: str) -> tuple[str, str]:
    return path, path[:-1] + chr(ord(path[-1]) + 1)


def _groups(groups: list[Group]) -> tuple[str, list]:
    """``groups(g, lo, hi) AS (VALUES …)`` and its parameters."""
    values = ", ".join("(?, ?, ?)" for _ in groups)
    return (f"groups(g, lo, hi) AS (VALUES {values})",
            [x for key, path in groups for x in (key, *_under(path))])


async def sums(conn: aiosqlite.Connection, groups: list[Group],
               months: list[tuple[str, str]]) -> list[Sums]:
    """For each (month, cutoff) the figures of each group's villages as they count that month
    (``village_effective``); "on time" is first filed before the cutoff (an ISO time in UTC).
    One range of the primary key per month and group, summed in SQLite; a group without
    villages counted that month has no row."""
    if not groups or not months:
        return []
    values = ", ".join("(?, ?)" for _ in months)
    with_groups, group_args = _groups(groups)
    rows = await fetch_all(
        conn,
        f"WITH months(m, cutoff) AS (VALUES {values}), {with_groups}"
        " SELECT e.month, groups.g, count(*), sum(e.total), sum(e.poor), sum(e.near_poor),"
        " sum(e.em_poor), sum(e.loans),"
        " sum(CASE WHEN e.period = e.month THEN 1 ELSE 0 END),"
        " sum(CASE WHEN e.period = e.month AND e.filed_at < months.cutoff THEN 1 ELSE 0 END),"
        " sum(e.support_vnd),"
        " min(CASE WHEN e.period < e.month THEN e.period END),"
        " max(CASE WHEN e.period < e.month THEN e.period END)"
        " FROM months CROSS JOIN groups CROSS JOIN village_effective e ON e.month = months.m"
        " AND e.path >= groups.lo AND e.path < groups.hi GROUP BY e.month, groups.g",
        (*[x for pair in months for x in pair], *group_args))
    return [Sums(*r) for r in rows]


async def village_counts(conn: aiosqlite.Connection, groups: list[Group], level: str
                         ) -> dict[int, int]:
    """Villages (areas of ``level``, not retired) of each group, by its key."""
    if not groups:
        return {}
    with_groups, args = _groups(groups)
    # The level is tested in the sum, not in a WHERE: given "level = ?", planners pick the
    # index on the level (every village of the country, once per group) over the range of
    # paths.
    rows = await fetch_all(
        conn,
        f"WITH {with_groups} SELECT groups.g,"
        " sum(CASE WHEN a.level = ? AND a.retired_at IS NULL THEN 1 ELSE 0 END)"
        " FROM groups CROSS JOIN areas a ON a.path >= groups.lo AND a.path < groups.hi"
        " GROUP BY groups.g", (*args, level))
    return {r[0]: r[1] for r in rows if r[1]}


@dataclass(frozen=True, slots=True)
class Effective:
    """One village's figures as they count for ``month`` (``period`` is the month of the
    report counted: an earlier one when the village has not filed ``month``), with the flows
    of its own report of ``month`` (None when it has not filed it)."""

    month: str
    area_id: int
    period: str
    total: int
    poor: int
    near_poor: int
    em_poor: int
    loans: int
    support_vnd: int
    filed_at: str | None
    exited: int | None
    newly_poor: int | None
    fallen_back: int | None
    note: str | None


async def effective_rows(conn: aiosqlite.Connection, path: str, months: list[str]
                         ) -> list[Effective]:
    """Every village under ``path`` as it counts for each of ``months``: the rows that
    ``sums`` adds up, one by one (spreadsheets list them)."""
    if not months:
        return []
    values = ", ".join("(?)" for _ in months)
    rows = await fetch_all(
        conn,
        f"WITH months(m) AS (VALUES {values})"
        " SELECT e.month, e.area_id, e.period, e.total, e.poor, e.near_poor, e.em_poor,"
        " e.loans, e.support_vnd, e.filed_at, vm.exited, vm.newly_poor, vm.fallen_back,"
        " vm.note FROM months CROSS JOIN village_effective e ON e.month = months.m"
        " AND e.path >= ? AND e.path < ?"
        " LEFT JOIN village_monthly vm ON vm.area_id = e.area_id AND vm.period = e.month",
        (*months, *_under(path)))
    return [Effective(*r) for r in rows]


async def carried_villages(conn: aiosqlite.Connection, path: str, month: str, limit: int
                           ) -> list[tuple[str, str, str]]:
    """(commune name, village name, month of the report counted) of at most ``limit``
    villages under ``path`` that count for ``month`` with an older report, by commune then
    village name (folded: the alphabetical order of the statistics' lists)."""
    rows = await fetch_all(
        conn,
        "SELECT c.name, a.name, e.period FROM village_effective e"
        " JOIN areas a ON a.id = e.area_id LEFT JOIN areas c ON c.id = a.parent_id"
        " WHERE e.month = ? AND e.path >= ? AND e.path < ? AND e.period < e.month"
        " ORDER BY c.name_folded, a.name_folded LIMIT ?", (month, *_under(path), limit))
    return [(r[0] or "", r[1], r[2]) for r in rows]


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


async def registration_counts(conn: aiosqlite.Connection, groups: list[Group],
                              first_day: str, last_day: str) -> list[tuple[int, str, int]]:
    """(group key, state, count) of the exit registrations made ``first_day`` … ``last_day``
    (``YYYY-MM-DD``) by households of each group's villages."""
    if not groups:
        return []
    with_groups, args = _groups(groups)
    rows = await fetch_all(
        conn,
        f"WITH {with_groups} SELECT groups.g, r.state, count(*) FROM groups"
        " CROSS JOIN areas a ON a.path >= groups.lo AND a.path < groups.hi"
        " JOIN households h ON h.village_id = a.id"
        " JOIN exit_registrations r ON r.household_id = h.id"
        " WHERE r.registered_on BETWEEN ? AND ? GROUP BY groups.g, r.state",
        (*args, first_day, last_day))
    return [(r[0], r[1], r[2]) for r in rows]


async def households_of(conn: aiosqlite.Connection, village_ids: list[int]) -> list[tuple]:
    """(village id, code, head's name, status, status since, ethnic minority, no work
    capacity, has merit, has loan) of the households of these villages, by village in the
    order given and by code (``NK-2`` before ``NK-10``). A few villages at a time: a list of
    a province's households is read in many short trips (see ``reports.stats``)."""
    if not village_ids:
        return []
    values = ", ".join("(?, ?)" for _ in village_ids)
    return list(await fetch_all(
        conn,
        f"WITH wanted(village_id, position) AS (VALUES {values})"
        " SELECT h.village_id, h.code, h.head_name, h.status, h.status_since,"
        " h.ethnic_minority, h.no_work_capacity, h.has_merit, h.has_loan"
        " FROM wanted CROSS JOIN households h ON h.village_id = wanted.village_id"
        " ORDER BY wanted.position, length(h.code), h.code",
        [x for position, village in enumerate(village_ids) for x in (village, position)]))

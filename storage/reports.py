"""Reports: one per (area, form, period), every submission kept as a numbered version.

The current version of each monthly village report is also kept typed in ``village_monthly``
so statistics can sum columns instead of parsing JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import effective
from storage.areas import Area
from storage.audit import Actor, record
from storage.clock import iso, parse_iso
from storage.query import fetch_all, fetch_one, run

MONTHLY_FORM = "monthly_village"
# The movement reports ("Vì người nghèo"): a 6-month report for January–June of a year, and a
# yearly report. Filed by villages and by communes.
HALF_YEAR_FORM = "half_year"
YEARLY_FORM = "yearly"
MOVEMENT_FORMS = (HALF_YEAR_FORM, YEARLY_FORM)
MONTHLY_COLUMNS = (
    "total", "poor", "near_poor", "exited", "newly_poor", "fallen_back", "em_poor", "loans",
    "support_vnd", "note",
)


def movement_period(form: str, year: int) -> str:
    """The period key of a movement report: ``2026-H1`` (6-month) or ``2026`` (yearly)."""
    if form == HALF_YEAR_FORM:
        return f"{year:04d}-H1"
    if form == YEARLY_FORM:
        return f"{year:04d}"
    raise ValueError(f"not a movement form: {form!r}")


def movement_months(form: str, year: int) -> tuple[str, str]:
    """The first and last monthly period (``YYYY-MM``) a movement report covers."""
    last = 6 if form == HALF_YEAR_FORM else 12
    movement_period(form, year)  # refuses an unknown form
    return f"{year:04d}-01", f"{year:04d}-{last:02d}"


@dataclass(frozen=True, slots=True)
class ReportVersion:
    area_id: int
    form: str
    period: str
    version: int
    data: dict
    submitted_by: int | None
    submitted_by_name: str | None
    submitted_via: str
    submitted_at: datetime


_VERSION_SQL = (
    "SELECT r.area_id, r.form, r.period, v.version, v.data, v.submitted_by, p.full_name,"
    " v.submitted_via, v.submitted_at FROM reports r"
    " JOIN report_versions v ON v.report_id = r.id"
    " LEFT JOIN people p ON p.id = v.submitted_by"
)


def _version(row) -> ReportVersion:
    return ReportVersion(
        row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7],
        parse_iso(row[8]),
    )


async def current_report(
    conn: aiosqlite.Connection, area_id: int, form: str, period: str
) -> ReportVersion | None:
    row = await fetch_one(
        conn,
        _VERSION_SQL + " WHERE r.area_id = ? AND r.form = ? AND r.period = ?"
        " AND v.version = r.version",
        (area_id, form, period),
    )
    return _version(row) if row else None


async def report_versions(
    conn: aiosqlite.Connection, area_id: int, form: str | None = None,
    period: str | None = None,
) -> list[ReportVersion]:
    """Every version of the area's reports, newest period first, then newest version first."""
    sql = _VERSION_SQL + " WHERE r.area_id = ?"
    args: list = [area_id]
    if form is not None:
        sql += " AND r.form = ?"
        args.append(form)
    if period is not None:
        sql += " AND r.period = ?"
        args.append(period)
    rows = await fetch_all(conn, sql + " ORDER BY r.period DESC, v.version DESC", args)
    return [_version(r) for r in rows]


async def save_report(
    conn: aiosqlite.Connection,
    *,
    area_id: int,
    form: str,
    period: str,
    data: dict,
    actor: Actor,
    via: str,
    at: datetime,
) -> int:
    """Store ``data`` as the next version of the report and return its version number."""
    before = await current_report(conn, area_id, form, period)
    report_id, version = await fetch_one(
        conn,
        "INSERT INTO reports (area_id, form, period, version, created_at, updated_at)"
        " VALUES (?, ?, ?, 1, ?, ?)"
        " ON CONFLICT (area_id, form, period) DO UPDATE SET"
        " version = reports.version + 1, updated_at = excluded.updated_at"
        " RETURNING id, version",
        (area_id, form, period, iso(at), iso(at)),
    )
    await run(
        conn,
        "INSERT INTO report_versions"
        " (report_id, version, data, submitted_by, submitted_via, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (report_id, version, json.dumps(data, ensure_ascii=False, sort_keys=True),
         actor.person_id, via, iso(at)),
    )
    if form == MONTHLY_FORM:
        values = [data.get(c, "" if c == "note" else 0) or ("" if c == "note" else 0)
                  for c in MONTHLY_COLUMNS]
        cols = ", ".join(MONTHLY_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in MONTHLY_COLUMNS)
        await run(
            conn,
            f"INSERT INTO village_monthly (area_id, period, version, {cols}, submitted_at)"
            f" VALUES (?, ?, ?, {', '.join('?' * len(MONTHLY_COLUMNS))}, ?)"
            f" ON CONFLICT (area_id, period) DO UPDATE SET version = excluded.version,"
            f" {updates}, submitted_at = excluded.submitted_at",
            (area_id, period, version, *values, iso(at)),
        )
        await effective.refresh(conn, area_id, period)
    await record(
        conn, actor=actor, action="submit", entity="report",
        entity_id=f"{area_id}/{form}/{period}", at=at,
        before=None if before is None else {"version": before.version, **before.data},
        after={"version": version, **data},
    )
    return version


async def monthly_support_total(
    conn: aiosqlite.Connection, area: Area, first: str, last: str
) -> int:
    """Support mobilised (VND) in the current monthly reports of months ``first``..``last``
    (``YYYY-MM``, inclusive) of ``area``: a village's own, or every village under a commune."""
    row = await fetch_one(
        conn,
        "SELECT coalesce(sum(m.support_vnd), 0) FROM village_monthly m"
        " JOIN areas a ON a.id = m.area_id"
        " WHERE a.path LIKE ? AND m.period >= ? AND m.period <= ?",
        (area.path + "%", first, last),
    )
    return int(row[0])


async def movement_support_total(
    conn: aiosqlite.Connection, area: Area, form: str, year: int
) -> int:
    """The pre-filled support of a movement report: the sum over the months it covers."""
    first, last = movement_months(form, year)
    return await monthly_support_total(conn, area, first, last)


async def import_monthly(conn: aiosqlite.Connection, rows: list[tuple[int, str, dict]], *,
                         actor: Actor, via: str, at: datetime) -> int:
    """Store months of history at once: (village id, period, figures) each becomes version 1
    of its monthly report (periods already on record are left alone), with one audit row for
    the whole import. For taking over the figures a province kept before the bot; returns how
    many reports were added."""
    stamp = iso(at)
    added = []
    for area_id, period, data in rows:
        row = await fetch_one(
            conn,
            "INSERT INTO reports (area_id, form, period, version, created_at, updated_at)"
            " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (area_id, form, period) DO NOTHING"
            " RETURNING id",
            (area_id, MONTHLY_FORM, period, stamp, stamp))
        if row is not None:
            added.append((row[0], area_id, period, data))
    await conn.executemany(
        "INSERT INTO report_versions"
        " (report_id, version, data, submitted_by, submitted_via, submitted_at)"
        " VALUES (?, 1, ?, ?, ?, ?)",
        [(rid, json.dumps(data, ensure_ascii=False, sort_keys=True), actor.person_id, via,
          stamp) for rid, _, _, data in added])
    cols = ", ".join(MONTHLY_COLUMNS)
    await conn.executemany(
        f"INSERT INTO village_monthly (area_id, period, version, {cols}, submitted_at)"
        f" VALUES (?, ?, 1, {', '.join('?' * len(MONTHLY_COLUMNS))}, ?)",
        [(area_id, period,
          *[data.get(c, "" if c == "note" else 0) or ("" if c == "note" else 0)
            for c in MONTHLY_COLUMNS], stamp)
         for _, area_id, period, data in added])
    spans: dict[int, list[str]] = {}
    for _, area_id, period, _ in added:
        span = spans.setdefault(area_id, [period, period])
        span[0], span[1] = min(span[0], period), max(span[1], period)
    for area_id, (first, last) in spans.items():
        await effective.refresh(conn, area_id, first, last)
    if added:
        await record(conn, actor=actor, action="import", entity="report",
                     entity_id=f"{MONTHLY_FORM}:{len(added)}", at=at,
                     after={"reports": len(added), "periods": sorted({p for _, _, p, _ in
                                                                      added})})
    return len(added)

"""``village_effective``: each village's figures as they count for each month, kept up to date.

Statistics count a village that has not reported a month with its latest report of at most
``stats.carry_months`` months before. Working that out at question time costs a few index
seeks per village and month (a province's trend: 3,000 villages × 13 months); this table holds
the answer instead, one row per (month, village), so an area's figures for a month are one
range of the primary key (``month``, then the village's ``path``), summed by SQLite.

Rows are written in the same transaction as the report that changes them: a monthly report
for month P rewrites the village's rows of the months P … P + carry. The row of a month the
village reported itself also carries that report's support and when it was first filed (for
on-time counts). ``rebuild`` recomputes everything (at start-up, when the carry setting
changed). Area paths never change today; moving or retiring a village must rewrite its rows.
"""

from __future__ import annotations

import aiosqlite

from storage.meta import set_meta
from storage.query import fetch_one, run

CARRY_KEY = "stats.carry_months"
DEFAULT_CARRY = 12
MONTHLY_FORM = "monthly_village"


def _shift(key: str, months: int) -> str:
    index = int(key[:4]) * 12 + int(key[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


async def carry_months(conn: aiosqlite.Connection) -> int:
    """The carry the table was built with (``stats.carry_months``)."""
    try:
        row = await fetch_one(conn, "SELECT value FROM meta WHERE key = ?", (CARRY_KEY,))
    except aiosqlite.OperationalError:
        return DEFAULT_CARRY
    return int(row[0]) if row else DEFAULT_CARRY


_FILL = (
    " INSERT INTO village_effective (month, path, area_id, period, total, poor, near_poor,"
    " em_poor, loans, support_vnd, filed_at)"
    " SELECT months.m, a.path, a.id, vm.period, vm.total, vm.poor, vm.near_poor, vm.em_poor,"
    " vm.loans, CASE WHEN vm.period = months.m THEN vm.support_vnd ELSE 0 END,"
    " CASE WHEN vm.period = months.m THEN (SELECT r.created_at FROM reports r"
    "   WHERE r.area_id = a.id AND r.form = ? AND r.period = vm.period) END"
    " FROM months CROSS JOIN areas a CROSS JOIN village_monthly vm ON vm.area_id = a.id"
    " AND vm.period = (SELECT max(x.period) FROM village_monthly x"
    "   WHERE x.area_id = a.id AND x.period BETWEEN months.oldest AND months.m)"
)


async def refresh(conn: aiosqlite.Connection, area_id: int, first: str,
                  last: str | None = None) -> None:
    """Rewrite the village's rows of the months its reports of ``first`` … ``last`` (one
    month when ``last`` is None) affect: ``first`` … ``last`` + carry."""
    carry = await carry_months(conn)
    end = _shift(last or first, carry)
    months = []
    key = first
    while key <= end:
        months.append((key, _shift(key, -carry)))
        key = _shift(key, 1)
    await run(conn, "DELETE FROM village_effective WHERE area_id = ? AND month BETWEEN ? AND ?",
              (area_id, first, end))
    values = ", ".join("(?, ?)" for _ in months)
    await run(conn, f"WITH months(m, oldest) AS (VALUES {values})" + _FILL + " WHERE a.id = ?",
              (*[x for pair in months for x in pair], MONTHLY_FORM, area_id))


async def rebuild(conn: aiosqlite.Connection, carry: int) -> int:
    """Recompute the whole table with ``carry`` (and remember it); rows written."""
    await set_meta(conn, CARRY_KEY, carry)
    await run(conn, "DELETE FROM village_effective")
    bounds = await fetch_one(conn, "SELECT min(period), max(period) FROM village_monthly")
    if not bounds or bounds[0] is None:
        return 0
    months = []
    key, end = bounds[0], _shift(bounds[1], carry)
    while key <= end:
        months.append((key, _shift(key, -carry)))
        key = _shift(key, 1)
    written = 0
    for start in range(0, len(months), 24):  # a couple of years a statement
        chunk = months[start:start + 24]
        values = ", ".join("(?, ?)" for _ in chunk)
        written += await run(
            conn, f"WITH months(m, oldest) AS (VALUES {values})" + _FILL,
            (*[x for pair in chunk for x in pair], MONTHLY_FORM))
    return written


async def ensure(conn: aiosqlite.Connection, carry: int) -> int | None:
    """Rebuild when the table was built with another carry (or never); rows written, None
    when it is up to date."""
    row = await fetch_one(conn, "SELECT value FROM meta WHERE key = ?", (CARRY_KEY,))
    if row is not None and int(row[0]) == carry:
        return None
    return await rebuild(conn, carry)

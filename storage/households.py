"""Households of a village: status, recognised changes, assessments, support, and voluntary
registrations to exit poverty (DOMAIN §3, §7).

Personal data (DOMAIN §9): a household is a code, the head's name, its village, its status and
four yes/no breakdowns; nothing else is stored (no ID-card numbers, no members). Every change is
written to the audit log with its actor, in the caller's transaction (``async with db.write()``),
so a change and its history are saved together or not at all.

A status changes in one place, ``change_status``, whatever recognised it (an assessment, an exit
registration, the commune's list imported): it sets the status, writes a ``household_events`` row
whose kind ``change_kind`` decides, and audits both. The monthly report's "exited", "newly poor"
and "fallen back" are counts of those events.

Dates are ``date`` objects here and ``'YYYY-MM-DD'`` text in the database; times are aware
``datetime`` objects here and ISO-8601 text in UTC there.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

import aiosqlite

from common.text import fold, visible
from storage.areas import Area
from storage.audit import Actor, record
from storage.clock import iso, parse_iso
from storage.query import fetch_all, fetch_one, run

STATUSES = ("poor", "near_poor", "average", "other")
FLAGS = ("ethnic_minority", "no_work_capacity", "has_merit", "has_loan")
EVENT_KINDS = (
    "created", "newly_poor", "newly_near_poor", "exited", "exited_near_poor", "fallen_back",
    "status_change",
)
# The kinds the monthly village report counts (its fields of the same names).
REPORTED_KINDS = ("exited", "newly_poor", "fallen_back")

REGISTRATION_STATES = ("registered", "under_review", "recognised", "not_yet", "withdrawn")
OPEN_STATES = ("registered", "under_review", "not_yet")
# The open states that wait for the commune's decision (what /duyet lists): "not yet" is
# decided for now, until the village asks again ("under review").
WAITING_STATES = ("registered", "under_review")
TRANSITIONS: dict[str, frozenset[str]] = {
    "registered": frozenset({"under_review", "withdrawn", "recognised", "not_yet"}),
    "under_review": frozenset({"recognised", "not_yet", "withdrawn"}),
    "not_yet": frozenset({"under_review", "withdrawn"}),
    "recognised": frozenset(),
    "withdrawn": frozenset(),
}
ASSESSMENT_DECISIONS = {"recognise": "recognised", "reject": "rejected"}

# Fields ``update_household`` changes; the status only changes through ``change_status``.
EDITABLE = ("code", "head_name", *FLAGS)


class HouseholdError(ValueError):
    """A change the rules refuse. ``key`` names the reason for a message catalogue
    (``household.duplicate_code``, ``registration.open_exists``, …); ``details`` fill it in."""

    def __init__(self, key: str, message: str, **details: object):
        super().__init__(message)
        self.key = key
        self.details = details


# --- values ------------------------------------------------------------------------------------

def normalise_code(code: object) -> str:
    """A household code as stored: NFC, single spaces, upper case (``" hn 01"`` → ``"HN 01"``),
    without invisible format characters (zero-width spaces, direction marks), which would make
    two codes that look the same differ."""
    return visible(str(code)).upper()


def normalise_name(name: str) -> str:
    """A name or a free text (a plan, a source, a reason) as stored: what a person sees."""
    return visible(name)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_bounds(period: str) -> tuple[str, str]:
    """``'2026-10'`` → ``('2026-10-01', '2026-11-01')``: the month as a half-open date range."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except ValueError:
        raise ValueError(f"not a period: {period!r} (write YYYY-MM)") from None
    return first.isoformat(), add_months(first, 1).isoformat()


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _scoped(
    select: str, column: str, village_id: int | None, within: Area | None, what: str
) -> tuple[str, list]:
    """``select`` narrowed to one village, or to every village under ``within``."""
    if village_id is not None:
        return select + f" WHERE {column} = ?", [village_id]
    if within is not None:
        join = f" JOIN areas a ON a.id = {column} WHERE a.path LIKE ?"
        return select + join, [within.path + "%"]
    raise ValueError(f"{what} needs a village_id or an area (within)")


def _check_status(status: str, what: str = "status") -> None:
    if status not in STATUSES:
        raise HouseholdError("household.unknown_status", f"unknown {what} {status!r}",
                             status=status)


# --- households --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Household:
    id: int
    village_id: int
    code: str
    head_name: str
    status: str
    status_since: date
    recently_exited_until: date | None
    ethnic_minority: bool
    no_work_capacity: bool
    has_merit: bool
    has_loan: bool
    created_at: datetime
    updated_at: datetime

    def recently_exited(self, on: date) -> bool:
        """True while the "recently exited" window is open on ``on`` (it ends on its date)."""
        return self.recently_exited_until is not None and self.recently_exited_until > on

    def as_dict(self) -> dict:
        """The household as the audit log keeps it (dates as text)."""
        return {
            "village_id": self.village_id, "code": self.code, "head_name": self.head_name,
            "status": self.status, "status_since": self.status_since.isoformat(),
            "recently_exited_until": (
                None if self.recently_exited_until is None
                else self.recently_exited_until.isoformat()
            ),
            **{flag: getattr(self, flag) for flag in FLAGS},
        }


_COLUMNS = (
    "id", "village_id", "code", "head_name", "status", "status_since", "recently_exited_until",
    *FLAGS, "created_at", "updated_at",
)
_RETURNING = " RETURNING " + ", ".join(_COLUMNS)
_H_SELECT = f"SELECT {', '.join('h.' + c for c in _COLUMNS)} FROM households h"


def _household(row) -> Household:
    return Household(
        row[0], row[1], row[2], row[3], row[4], date.fromisoformat(row[5]), _day(row[6]),
        bool(row[7]), bool(row[8]), bool(row[9]), bool(row[10]), parse_iso(row[11]),
        parse_iso(row[12]),
    )


@dataclass(frozen=True, slots=True)
class HouseholdEvent:
    id: int
    household_id: int
    village_id: int
    kind: str
    status_before: str | None
    status_after: str
    effective_date: date
    recognised_by: int | None
    reason: str
    at: datetime


_E_SELECT = (
    "SELECT e.id, e.household_id, e.village_id, e.kind, e.status_before, e.status_after,"
    " e.effective_date, e.recognised_by, e.reason, e.at FROM household_events e"
)


def _event(row) -> HouseholdEvent:
    return HouseholdEvent(row[0], row[1], row[2], row[3], row[4], row[5],
                          date.fromisoformat(row[6]), row[7], row[8], parse_iso(row[9]))


async def _add_event(
    conn: aiosqlite.Connection, household: Household, *, kind: str, before: str | None,
    after: str, effective_date: date, actor: Actor, reason: str, at: datetime,
) -> HouseholdEvent:
    (event_id,) = await fetch_one(
        conn,
        "INSERT INTO household_events (household_id, village_id, kind, status_before,"
        " status_after, effective_date, recognised_by, reason, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (household.id, household.village_id, kind, before, after, effective_date.isoformat(),
         actor.person_id, reason, iso(at)),
    )
    return HouseholdEvent(event_id, household.id, household.village_id, kind, before, after,
                          effective_date, actor.person_id, reason, at)


async def add_household(
    conn: aiosqlite.Connection,
    *,
    village_id: int,
    code: str,
    head_name: str,
    status: str,
    status_since: date,
    ethnic_minority: bool = False,
    no_work_capacity: bool = False,
    has_merit: bool = False,
    has_loan: bool = False,
    actor: Actor,
    at: datetime,
    reason: str = "",
) -> Household:
    """Add a household to ``village_id`` with a ``created`` event; audited.

    Raises ``HouseholdError`` when the code is already used in the village (``household.
    duplicate_code``), or the code, name or status is missing or unknown.
    """
    code, head_name = normalise_code(code), normalise_name(head_name)
    if not code:
        raise HouseholdError("household.no_code", "a household needs a code")
    if not head_name:
        raise HouseholdError("household.no_name", "a household needs the head's name")
    _check_status(status)
    flags = (ethnic_minority, no_work_capacity, has_merit, has_loan)
    row = await fetch_one(
        conn,
        "INSERT INTO households (village_id, code, head_name, head_name_folded, status,"
        " status_since, ethnic_minority, no_work_capacity, has_merit, has_loan, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (village_id, code) DO NOTHING RETURNING id",
        (village_id, code, head_name, fold(head_name), status, status_since.isoformat(),
         *map(int, flags), iso(at), iso(at)),
    )
    if row is None:
        raise HouseholdError("household.duplicate_code",
                             f"household code {code} is already used in this village", code=code)
    at = parse_iso(iso(at))  # as stored (UTC, whole seconds)
    household = Household(row[0], village_id, code, head_name, status, status_since, None,
                          *map(bool, flags), at, at)
    await _add_event(conn, household, kind="created", before=None, after=status,
                     effective_date=status_since, actor=actor, reason=reason, at=at)
    await record(conn, actor=actor, action="create", entity="household", entity_id=row[0],
                 at=at, after=household.as_dict())
    return household


@dataclass(frozen=True, slots=True)
class NewHousehold:
    """A household to add with ``add_households``."""

    code: str
    head_name: str
    status: str
    ethnic_minority: bool = False
    no_work_capacity: bool = False
    has_merit: bool = False
    has_loan: bool = False


async def add_households(
    conn: aiosqlite.Connection,
    village_id: int,
    new: Sequence[NewHousehold],
    *,
    status_since: date,
    actor: Actor,
    at: datetime,
    reason: str = "",
) -> list[Household]:
    """Add many households to one village (an imported list): like ``add_household`` for
    each — a ``created`` event and an audit entry apiece — in a handful of trips to the
    database instead of three per household, so a big import holds the write lock briefly.

    All or nothing: a code used twice in ``new`` or already used in the village, or a missing
    code, name or status, raises ``HouseholdError`` before anything is written.
    """
    rows = []
    seen: set[str] = set()
    for item in new:
        code, name = normalise_code(item.code), normalise_name(item.head_name)
        if not code:
            raise HouseholdError("household.no_code", "a household needs a code")
        if not name:
            raise HouseholdError("household.no_name", "a household needs the head's name",
                                 code=code)
        _check_status(item.status)
        if code in seen:
            raise HouseholdError("household.duplicate_code",
                                 f"household code {code} is given twice", code=code)
        seen.add(code)
        rows.append((code, name, item))
    if not rows:
        return []
    taken = {r[0] for r in await fetch_all(
        conn, "SELECT code FROM households WHERE village_id = ?", (village_id,))} & seen
    if taken:
        code = min(taken)
        raise HouseholdError("household.duplicate_code",
                             f"household code {code} is already used in this village", code=code)
    since, stamp = status_since.isoformat(), iso(at)
    await conn.executemany(
        "INSERT INTO households (village_id, code, head_name, head_name_folded, status,"
        " status_since, ethnic_minority, no_work_capacity, has_merit, has_loan, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(village_id, code, name, fold(name), item.status, since,
          *(int(getattr(item, flag)) for flag in FLAGS), stamp, stamp)
         for code, name, item in rows],
    )
    added = [h for h in map(_household, await fetch_all(
        conn, _H_SELECT + " WHERE h.village_id = ? AND h.created_at = ? ORDER BY h.id",
        (village_id, stamp))) if h.code in seen]
    await conn.executemany(
        "INSERT INTO household_events (household_id, village_id, kind, status_before,"
        " status_after, effective_date, recognised_by, reason, at)"
        " VALUES (?, ?, 'created', NULL, ?, ?, ?, ?, ?)",
        [(h.id, village_id, h.status, since, actor.person_id, reason, stamp) for h in added],
    )
    for h in added:
        await record(conn, actor=actor, action="create", entity="household", entity_id=h.id,
                     at=at, after=h.as_dict())
    return added


async def get_household(conn: aiosqlite.Connection, household_id: int) -> Household | None:
    row = await fetch_one(conn, _H_SELECT + " WHERE h.id = ?", (household_id,))
    return _household(row) if row else None


async def household_by_code(
    conn: aiosqlite.Connection, village_id: int, code: str
) -> Household | None:
    row = await fetch_one(conn, _H_SELECT + " WHERE h.village_id = ? AND h.code = ?",
                          (village_id, normalise_code(code)))
    return _household(row) if row else None


async def list_households(
    conn: aiosqlite.Connection, village_id: int, *, status: str | None = None
) -> list[Household]:
    """The village's households (of one status if given), in code order (``2`` before ``10``)."""
    sql, args = _H_SELECT + " WHERE h.village_id = ?", [village_id]
    if status is not None:
        sql += " AND h.status = ?"
        args.append(status)
    rows = await fetch_all(conn, sql + " ORDER BY length(h.code), h.code", args)
    return [_household(r) for r in rows]


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_households(
    conn: aiosqlite.Connection,
    query: str,
    *,
    village_id: int | None = None,
    within: Area | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Household]:
    """Households of a village (or of every village under ``within``) whose code starts with
    ``query`` or whose head's name contains it, diacritics and case ignored.

    Best first: the exact code, codes starting with it, names starting with it, names with a
    word starting with it, names containing it. ``offset`` skips that many (the next page);
    ``count_households`` says how many match in all.
    """
    found = _find_where(query, village_id, within)
    if found is None:
        return []
    sql, args, code, needle = found
    code_like = _like(code) + "%"
    sql = _H_SELECT + sql + (
        " ORDER BY CASE WHEN h.code = ? THEN 0"
        " WHEN h.code LIKE ? ESCAPE '\\' THEN 1"
        " WHEN h.head_name_folded LIKE ? ESCAPE '\\' THEN 2"
        " WHEN h.head_name_folded LIKE ? ESCAPE '\\' THEN 3 ELSE 4 END,"
        # codes in code order ("2" before "10"), names in name order
        " CASE WHEN h.code LIKE ? ESCAPE '\\' THEN length(h.code) ELSE 0 END,"
        " CASE WHEN h.code LIKE ? ESCAPE '\\' THEN h.code ELSE '' END,"
        " h.head_name_folded, h.id LIMIT ? OFFSET ?"
    )
    args += [code, code_like, _like(needle) + "%", "% " + _like(needle) + "%", code_like,
             code_like, limit, offset]
    return [_household(r) for r in await fetch_all(conn, sql, args)]


async def count_households(
    conn: aiosqlite.Connection,
    query: str,
    *,
    village_id: int | None = None,
    within: Area | None = None,
) -> int:
    """How many households ``find_households`` finds for ``query`` in all."""
    found = _find_where(query, village_id, within)
    if found is None:
        return 0
    sql, args, _, _ = found
    (n,) = await fetch_one(conn, "SELECT count(*) FROM households h" + sql, args)
    return n


def _find_where(query: str, village_id: int | None, within: Area | None
                ) -> tuple[str, list, str, str] | None:
    """(the FROM tail and WHERE clause, its arguments, the code, the folded name) of a
    household search; None when the query has nothing to look for."""
    if village_id is None and within is None:
        raise ValueError("find_households needs a village_id or an area (within)")
    needle = fold(query)
    code = normalise_code(query)
    if not needle and not code:
        return None
    if village_id is not None:
        sql, args = " WHERE h.village_id = ?", [village_id]
    else:
        sql, args = " JOIN areas a ON a.id = h.village_id WHERE a.path LIKE ?", [within.path + "%"]
    sql += " AND (h.code LIKE ? ESCAPE '\\' OR h.head_name_folded LIKE ? ESCAPE '\\')"
    args += [_like(code) + "%", "%" + _like(needle) + "%"]
    return sql, args, code, needle


async def update_household(
    conn: aiosqlite.Connection,
    household_id: int,
    changes: Mapping[str, object],
    *,
    actor: Actor,
    at: datetime,
) -> Household:
    """Change the code, head's name or flags; audited with the changed fields before and after.

    Values equal to the current ones change nothing (no audit entry). The status is not
    editable here: it changes through ``change_status``, which records the event.
    """
    unknown = set(changes) - set(EDITABLE)
    if "status" in unknown:
        raise ValueError("the status changes through change_status (it records the event)")
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a household")
    household = await get_household(conn, household_id)
    if household is None:
        raise HouseholdError("household.not_found", f"no household #{household_id}")
    wanted: dict[str, object] = {}
    for key, value in changes.items():
        if key == "code":
            value = normalise_code(value)
            if not value:
                raise HouseholdError("household.no_code", "a household needs a code")
        elif key == "head_name":
            value = normalise_name(str(value))
            if not value:
                raise HouseholdError("household.no_name", "a household needs the head's name")
        else:
            value = bool(value)
        if getattr(household, key) != value:
            wanted[key] = value
    if not wanted:
        return household
    if "code" in wanted and await household_by_code(
        conn, household.village_id, wanted["code"]
    ) is not None:
        raise HouseholdError("household.duplicate_code",
                             f"household code {wanted['code']} is already used in this village",
                             code=wanted["code"])
    columns = dict(wanted)
    if "head_name" in columns:
        columns["head_name_folded"] = fold(columns["head_name"])
    columns = {k: int(v) if isinstance(v, bool) else v for k, v in columns.items()}
    sets = ", ".join(f"{k} = ?" for k in columns)  # keys from EDITABLE only
    row = await fetch_one(
        conn,
        f"UPDATE households SET {sets}, updated_at = ? WHERE id = ?" + _RETURNING,
        (*columns.values(), iso(at), household_id),
    )
    await record(
        conn, actor=actor, action="update", entity="household", entity_id=household_id, at=at,
        before={k: getattr(household, k) for k in wanted}, after=wanted,
    )
    return _household(row)


# --- status changes ----------------------------------------------------------------------------

def change_kind(
    before: str, after: str, *, on: date, recently_exited_until: date | None,
    ever_exited: bool,
) -> str | None:
    """The kind of event a recognised change of status from ``before`` to ``after`` is.

    ====================================  ==================================================
    before → after                        kind
    ====================================  ==================================================
    poor → near_poor, average, other      ``exited`` (thoát nghèo)
    near_poor → average, other            ``exited_near_poor`` (thoát cận nghèo)
    near_poor, average, other → poor      ``fallen_back`` (tái nghèo) if the household exited
                                          poverty before: an ``exited`` event in its history,
                                          or its recently-exited window still open on ``on``;
                                          otherwise ``newly_poor`` (nghèo phát sinh)
    average, other → near_poor            ``newly_near_poor`` (cận nghèo phát sinh)
    average ↔ other                       ``status_change``
    unchanged                             None: nothing to record
    ====================================  ==================================================
    """
    _check_status(before)
    _check_status(after)
    if before == after:
        return None
    if before == "poor":
        return "exited"
    if after == "poor":
        window_open = recently_exited_until is not None and recently_exited_until > on
        return "fallen_back" if ever_exited or window_open else "newly_poor"
    if before == "near_poor":
        return "exited_near_poor"
    if after == "near_poor":
        return "newly_near_poor"
    return "status_change"


@dataclass(frozen=True, slots=True)
class StatusChange:
    household: Household  # as it is after the change
    event: HouseholdEvent | None  # None when the status was already the one asked for


async def _ever_exited(conn: aiosqlite.Connection, household_id: int) -> bool:
    row = await fetch_one(
        conn,
        "SELECT 1 FROM household_events WHERE household_id = ? AND kind = 'exited' LIMIT 1",
        (household_id,),
    )
    return row is not None


async def change_status(
    conn: aiosqlite.Connection,
    household: Household | int,
    new_status: str,
    *,
    effective_date: date,
    exit_window_months: int,
    actor: Actor,
    at: datetime,
    reason: str = "",
) -> StatusChange:
    """Apply a recognised change of status on ``effective_date``; audited.

    Writes the ``household_events`` row of the kind ``change_kind`` gives (its
    ``recognised_by`` is the actor's person, None for the command line and imports). Leaving
    poverty (``exited``) opens the recently-exited window: ``recently_exited_until`` =
    ``effective_date`` + ``exit_window_months``; becoming poor again closes it. A change to
    the current status writes nothing.
    """
    _check_status(new_status)
    if not isinstance(household, Household):
        found = await get_household(conn, household)
        if found is None:
            raise HouseholdError("household.not_found", f"no household #{household}")
        household = found
    if household.status == new_status:
        return StatusChange(household, None)
    ever_exited = new_status == "poor" and await _ever_exited(conn, household.id)
    kind = change_kind(household.status, new_status, on=effective_date,
                       recently_exited_until=household.recently_exited_until,
                       ever_exited=ever_exited)
    until = household.recently_exited_until
    if kind == "exited":
        until = add_months(effective_date, exit_window_months)
    elif new_status == "poor":
        until = None
    row = await fetch_one(
        conn,
        "UPDATE households SET status = ?, status_since = ?, recently_exited_until = ?,"
        " updated_at = ? WHERE id = ?" + _RETURNING,
        (new_status, effective_date.isoformat(), None if until is None else until.isoformat(),
         iso(at), household.id),
    )
    after = _household(row)
    event = await _add_event(conn, after, kind=kind, before=household.status, after=new_status,
                             effective_date=effective_date, actor=actor, reason=reason, at=at)
    keys = ("status", "status_since", "recently_exited_until")
    before_d, after_d = household.as_dict(), after.as_dict()
    await record(
        conn, actor=actor, action="status", entity="household", entity_id=household.id, at=at,
        before={k: before_d[k] for k in keys},
        after={**{k: after_d[k] for k in keys}, "event": kind, "event_id": event.id,
               "reason": reason},
    )
    return StatusChange(after, event)


async def household_events(
    conn: aiosqlite.Connection, household_id: int
) -> list[HouseholdEvent]:
    """The household's history, oldest first."""
    rows = await fetch_all(
        conn, _E_SELECT + " WHERE e.household_id = ? ORDER BY e.effective_date, e.id",
        (household_id,),
    )
    return [_event(r) for r in rows]


async def events_in_month(
    conn: aiosqlite.Connection,
    period: str,
    *,
    village_id: int | None = None,
    within: Area | None = None,
    kinds: Iterable[str] | None = None,
) -> list[HouseholdEvent]:
    """The events with an effective date in ``period`` (``YYYY-MM``) of a village, or of every
    village under ``within``; by date."""
    start, end = month_bounds(period)
    sql, args = _scoped(_E_SELECT, "e.village_id", village_id, within, "events_in_month")
    sql += " AND e.effective_date >= ? AND e.effective_date < ?"
    args += [start, end]
    if kinds is not None:
        kinds = list(kinds)
        sql += f" AND e.kind IN ({', '.join('?' * len(kinds))})"
        args += kinds
    rows = await fetch_all(conn, sql + " ORDER BY e.effective_date, e.id", args)
    return [_event(r) for r in rows]


# --- the monthly figures -----------------------------------------------------------------------

# One trip, two aggregates over covering indexes: the households of the village
# (households_village_status) and its events of the month (household_events_village_date).
_FIGURES_SQL = """SELECT h.total, h.poor, h.near_poor, h.em_poor, h.loans,
        e.exited, e.newly_poor, e.fallen_back
    FROM (SELECT count(*) AS total,
            count(CASE WHEN status = 'poor' THEN 1 END) AS poor,
            count(CASE WHEN status = 'near_poor' THEN 1 END) AS near_poor,
            count(CASE WHEN status = 'poor' AND ethnic_minority = 1 THEN 1 END) AS em_poor,
            count(CASE WHEN status IN ('poor', 'near_poor') AND has_loan = 1 THEN 1 END)
                AS loans
        FROM households WHERE village_id = ?) h,
    (SELECT count(CASE WHEN kind = 'exited' THEN 1 END) AS exited,
            count(CASE WHEN kind = 'newly_poor' THEN 1 END) AS newly_poor,
            count(CASE WHEN kind = 'fallen_back' THEN 1 END) AS fallen_back
        FROM household_events
        WHERE village_id = ? AND effective_date >= ? AND effective_date < ?) e"""
FIGURE_KEYS = ("total", "poor", "near_poor", "em_poor", "loans", *REPORTED_KINDS)


async def village_figures(conn: aiosqlite.Connection, village_id: int, period: str) -> dict:
    """The monthly report's figures from the village's household list.

    ``total``, ``poor``, ``near_poor``, ``em_poor`` (poor and ethnic minority) and ``loans``
    (poor or near-poor with a Social Policy Bank loan) count the households as they are now;
    ``exited``, ``newly_poor`` and ``fallen_back`` count the recognised events with an
    effective date in ``period`` (``YYYY-MM``).
    """
    start, end = month_bounds(period)
    row = await fetch_one(conn, _FIGURES_SQL, (village_id, village_id, start, end))
    return dict(zip(FIGURE_KEYS, (int(v) for v in row), strict=True))


async def has_household_list(conn: aiosqlite.Connection, village_id: int) -> bool:
    """True when the village has at least one household on record."""
    row = await fetch_one(conn, "SELECT 1 FROM households WHERE village_id = ? LIMIT 1",
                          (village_id,))
    return row is not None


# --- is the list complete? --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HouseholdList:
    """A village's household list: how many households it holds, whether the head or an
    officer marked it complete (who, when), and its monthly figures for one period."""

    village_id: int
    households: int
    complete: bool
    marked_by: int | None
    marked_by_name: str | None
    marked_at: datetime | None
    figures: dict


# The figures (as village_figures) and the mark in one trip.
_LIST_SQL = f"""SELECT f.*, l.complete, l.marked_by, p.full_name, l.marked_at
    FROM ({_FIGURES_SQL}) f
    LEFT JOIN household_lists l ON l.village_id = ?
    LEFT JOIN people p ON p.id = l.marked_by"""


async def household_list(conn: aiosqlite.Connection, village_id: int,
                         period: str) -> HouseholdList:
    """The village's household list, with its figures for ``period`` (``YYYY-MM``)."""
    start, end = month_bounds(period)
    row = await fetch_one(conn, _LIST_SQL, (village_id, village_id, start, end, village_id))
    figures = dict(zip(FIGURE_KEYS, (int(v) for v in row[:len(FIGURE_KEYS)]), strict=True))
    complete, marked_by, name, marked_at = row[len(FIGURE_KEYS):]
    return HouseholdList(village_id, figures["total"], bool(complete), marked_by, name,
                         parse_iso(marked_at) if marked_at else None, figures)


async def list_sizes(conn: aiosqlite.Connection, village_ids: Sequence[int]
                     ) -> dict[int, tuple[int, bool]]:
    """(households listed, marked complete) of each village of ``village_ids`` that has a
    household or a mark; the others have neither."""
    found: dict[int, tuple[int, bool]] = {}
    ids = list(village_ids)
    for start in range(0, len(ids), 500):  # a bounded number of parameters per query
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = await fetch_all(
            conn,
            "SELECT v.id, (SELECT count(*) FROM households h WHERE h.village_id = v.id),"
            " coalesce(l.complete, 0) FROM areas v"
            " LEFT JOIN household_lists l ON l.village_id = v.id"
            f" WHERE v.id IN ({marks})", chunk)
        found.update((vid, (n, bool(complete))) for vid, n, complete in rows
                     if n or complete)
    return found


async def mark_household_list(
    conn: aiosqlite.Connection, village_id: int, *, complete: bool, actor: Actor,
    at: datetime, period: str | None = None,
) -> HouseholdList:
    """Record that the village's list is complete (or not any more); audited.

    A complete list drives the village's monthly report (its figures become the defaults and
    a typed figure that differs asks "are you sure?").
    """
    period = period or f"{at:%Y-%m}"
    before = await household_list(conn, village_id, period)
    await run(
        conn,
        "INSERT INTO household_lists (village_id, complete, marked_by, marked_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (village_id) DO UPDATE SET"
        " complete = excluded.complete, marked_by = excluded.marked_by,"
        " marked_at = excluded.marked_at",
        (village_id, int(complete), actor.person_id, iso(at)),
    )
    await record(conn, actor=actor, action="mark_complete" if complete else "mark_incomplete",
                 entity="household_list", entity_id=village_id, at=at,
                 before={"complete": before.complete},
                 after={"complete": complete, "households": before.households})
    return await household_list(conn, village_id, period)


# --- assessments -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Assessment:
    id: int
    household_id: int
    year: int
    income_per_person: int
    deprived: tuple[str, ...]
    standard_name: str
    suggested_status: str
    assessed_by: int | None
    assessed_at: datetime
    state: str  # suggested, recognised, rejected, superseded (by a newer one)
    decided_by: int | None  # who decided it (or recorded the assessment that superseded it)
    decided_at: datetime | None
    decision_reason: str | None
    superseded_by: int | None = None  # the assessment that replaced it


_A_COLUMNS = (
    "id, household_id, year, income_per_person, deprived, standard_name, suggested_status,"
    " assessed_by, assessed_at, state, decided_by, decided_at, decision_reason, superseded_by"
)
_A_SELECT = f"SELECT {_A_COLUMNS} FROM household_assessments"


def _assessment(row) -> Assessment:
    return Assessment(
        row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5], row[6], row[7],
        parse_iso(row[8]), row[9], row[10], None if row[11] is None else parse_iso(row[11]),
        row[12], row[13],
    )


def _assessment_dict(a: Assessment) -> dict:
    out = {f.name: getattr(a, f.name) for f in fields(a)}
    out["deprived"] = list(a.deprived)
    for key in ("assessed_at", "decided_at"):
        out[key] = None if out[key] is None else iso(out[key])
    del out["id"]
    return out


async def record_assessment(
    conn: aiosqlite.Connection,
    household_id: int,
    *,
    year: int,
    income_per_person: int,
    deprived: Iterable[str],
    standard_name: str,
    suggested_status: str,
    actor: Actor,
    at: datetime,
) -> Assessment:
    """Store an assessment (income, deprivations, the status the standard suggests) as
    ``suggested``; audited. Nothing changes until an officer recognises it.

    A newer assessment supersedes the household's older ones still waiting for a decision:
    they become ``superseded`` (by this one, by ``actor`` at ``at``; audited), never deleted,
    and no longer wait in /duyet. Decided ones keep their decision.
    """
    _check_status(suggested_status, "suggested status")
    deprived = tuple(deprived)
    (assessment_id,) = await fetch_one(
        conn,
        "INSERT INTO household_assessments (household_id, year, income_per_person, deprived,"
        " standard_name, suggested_status, assessed_by, assessed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (household_id, year, int(income_per_person), json.dumps(list(deprived)), standard_name,
         suggested_status, actor.person_id, iso(at)),
    )
    assessment = Assessment(assessment_id, household_id, year, int(income_per_person),
                            deprived, standard_name, suggested_status, actor.person_id,
                            parse_iso(iso(at)), "suggested", None, None, None)
    await record(conn, actor=actor, action="create", entity="assessment",
                 entity_id=assessment_id, at=at, after=_assessment_dict(assessment))
    superseded = await fetch_all(
        conn,
        "UPDATE household_assessments SET state = 'superseded', superseded_by = ?,"
        " decided_by = ?, decided_at = ? WHERE household_id = ? AND state = 'suggested'"
        " AND id <> ? RETURNING id",
        (assessment_id, actor.person_id, iso(at), household_id, assessment_id),
    )
    for (old_id,) in superseded:
        await record(conn, actor=actor, action="supersede", entity="assessment",
                     entity_id=old_id, at=at, before={"state": "suggested"},
                     after={"state": "superseded", "superseded_by": assessment_id})
    return assessment


async def get_assessment(conn: aiosqlite.Connection, assessment_id: int) -> Assessment | None:
    row = await fetch_one(conn, _A_SELECT + " WHERE id = ?", (assessment_id,))
    return _assessment(row) if row else None


async def assessments(conn: aiosqlite.Connection, household_id: int) -> list[Assessment]:
    """The household's assessments, oldest first."""
    rows = await fetch_all(conn, _A_SELECT + " WHERE household_id = ? ORDER BY year, id",
                           (household_id,))
    return [_assessment(r) for r in rows]


async def pending_assessments(
    conn: aiosqlite.Connection, *, within: Area
) -> list[tuple[Assessment, Household]]:
    """Assessments still waiting for an officer's decision, of households under ``within``,
    each with its household, oldest first."""
    a_cols = ", ".join("a." + c.strip() for c in _A_COLUMNS.split(","))
    h_cols = ", ".join("h." + c for c in _COLUMNS)
    rows = await fetch_all(
        conn,
        f"SELECT {a_cols}, {h_cols} FROM household_assessments a"
        " JOIN households h ON h.id = a.household_id"
        " JOIN areas v ON v.id = h.village_id"
        " WHERE a.state = 'suggested' AND v.path LIKE ? ORDER BY a.assessed_at, a.id",
        (within.path + "%",),
    )
    width = len(_A_COLUMNS.split(","))
    return [(_assessment(r[:width]), _household(r[width:])) for r in rows]


@dataclass(frozen=True, slots=True)
class Waiting:
    """What waits for an officer's decision under an area (what /duyet lists), and how much
    of it arrived after a moment (``new_…``)."""

    registrations: int
    assessments: int
    new_registrations: int
    new_assessments: int

    @property
    def total(self) -> int:
        return self.registrations + self.assessments

    @property
    def new(self) -> int:
        return self.new_registrations + self.new_assessments


async def waiting(conn: aiosqlite.Connection, *, within: Area, since: datetime) -> Waiting:
    """Exit registrations waiting for a decision and pending assessments that would change a
    status, of the households under ``within``; ``new_…`` count those that came into the
    queue after ``since``."""
    path, since_text = within.path + "%", iso(since)
    # new: it came into the queue after ``since`` (registered, or asked again after "not yet")
    (regs, new_regs) = await fetch_one(
        conn,
        "SELECT count(*), count(CASE WHEN EXISTS (SELECT 1 FROM registration_events e"
        " WHERE e.registration_id = r.id AND e.at > ?"
        " AND (e.state_before IS NULL OR e.state_before = 'not_yet')) THEN 1 END)"
        " FROM exit_registrations r JOIN households h ON h.id = r.household_id"
        " JOIN areas v ON v.id = h.village_id"
        f" WHERE r.state IN ({', '.join('?' * len(WAITING_STATES))}) AND v.path LIKE ?",
        (since_text, *WAITING_STATES, path),
    )
    (asms, new_asms) = await fetch_one(
        conn,
        "SELECT count(*), count(CASE WHEN a.assessed_at > ? THEN 1 END)"
        " FROM household_assessments a JOIN households h ON h.id = a.household_id"
        " JOIN areas v ON v.id = h.village_id"
        " WHERE a.state = 'suggested' AND a.suggested_status <> h.status AND v.path LIKE ?",
        (since_text, path),
    )
    return Waiting(regs, asms, new_regs, new_asms)


@dataclass(frozen=True, slots=True)
class AssessmentDecision:
    assessment: Assessment  # as it is after the decision
    change: StatusChange | None  # the status change a recognition applied (None otherwise)
    already: bool  # True when the same decision had been taken before: nothing was done


async def decide_assessment(
    conn: aiosqlite.Connection,
    assessment_id: int,
    decision: str,
    *,
    actor: Actor,
    at: datetime,
    effective_date: date | None = None,
    exit_window_months: int | None = None,
    reason: str = "",
) -> AssessmentDecision:
    """``recognise`` or ``reject`` a suggested assessment; audited.

    Recognising applies its suggested status through ``change_status`` on ``effective_date``
    (required then, with ``exit_window_months``). Taking the same decision twice acts once
    (``already``); the opposite decision on a decided assessment is refused.
    """
    if decision not in ASSESSMENT_DECISIONS:
        raise ValueError(f"decision must be 'recognise' or 'reject', not {decision!r}")
    state = ASSESSMENT_DECISIONS[decision]
    reason = normalise_name(reason)
    if state == "recognised" and (effective_date is None or exit_window_months is None):
        raise ValueError("recognising an assessment needs effective_date and exit_window_months")
    assessment = await get_assessment(conn, assessment_id)
    if assessment is None:
        raise HouseholdError("assessment.not_found", f"no assessment #{assessment_id}")
    if assessment.state == state:
        return AssessmentDecision(assessment, None, True)
    if assessment.state == "superseded":
        raise HouseholdError("assessment.superseded",
                             f"assessment #{assessment_id} was superseded by "
                             f"#{assessment.superseded_by}",
                             superseded_by=assessment.superseded_by)
    if assessment.state != "suggested":
        raise HouseholdError("assessment.decided",
                             f"assessment #{assessment_id} is already {assessment.state}",
                             state=assessment.state)
    row = await fetch_one(
        conn,
        "UPDATE household_assessments SET state = ?, decided_by = ?, decided_at = ?,"
        " decision_reason = ? WHERE id = ? AND state = 'suggested' RETURNING " + _A_COLUMNS,
        (state, actor.person_id, iso(at), reason, assessment_id),
    )
    decided = _assessment(row)
    change = None
    if state == "recognised":
        change = await change_status(
            conn, assessment.household_id, assessment.suggested_status,
            effective_date=effective_date, exit_window_months=exit_window_months, actor=actor,
            at=at, reason=reason or f"assessment #{assessment_id} ({assessment.year})",
        )
    await record(
        conn, actor=actor, action=decision, entity="assessment", entity_id=assessment_id,
        at=at, before={"state": assessment.state},
        after={"state": state, "reason": reason,
               "event": change.event.kind if change and change.event else None},
    )
    return AssessmentDecision(decided, change, False)


# --- support -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Support:
    id: int
    household_id: int
    kind: str
    amount_vnd: int
    source: str
    given_on: date
    recorded_by: int | None
    at: datetime


async def add_support(
    conn: aiosqlite.Connection,
    household_id: int,
    *,
    kind: str,
    amount_vnd: int,
    source: str,
    given_on: date,
    actor: Actor,
    at: datetime,
) -> Support:
    """Record support given to a household (a loan, breeds, training, money, …); audited."""
    if amount_vnd < 0:
        raise ValueError("amount_vnd cannot be negative")
    source = normalise_name(source)
    (support_id,) = await fetch_one(
        conn,
        "INSERT INTO household_support (household_id, kind, amount_vnd, source, given_on,"
        " recorded_by, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (household_id, kind, int(amount_vnd), source, given_on.isoformat(), actor.person_id,
         iso(at)),
    )
    await record(
        conn, actor=actor, action="create", entity="support", entity_id=support_id, at=at,
        after={"household_id": household_id, "kind": kind, "amount_vnd": int(amount_vnd),
               "source": source, "given_on": given_on.isoformat()},
    )
    return Support(support_id, household_id, kind, int(amount_vnd), source, given_on,
                   actor.person_id, parse_iso(iso(at)))


async def support_of(conn: aiosqlite.Connection, household_id: int) -> list[Support]:
    rows = await fetch_all(
        conn,
        "SELECT id, household_id, kind, amount_vnd, source, given_on, recorded_by, at"
        " FROM household_support WHERE household_id = ? ORDER BY given_on, id",
        (household_id,),
    )
    return [Support(r[0], r[1], r[2], r[3], r[4], date.fromisoformat(r[5]), r[6],
                    parse_iso(r[7])) for r in rows]


# --- voluntary registrations to exit poverty ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    household_id: int
    village_id: int
    household_code: str
    head_name: str
    target_year: int
    plan_kind: str
    plan_text: str
    support_asked: tuple[str, ...]
    registered_on: date
    recorded_by: int | None
    state: str
    state_at: datetime
    state_by: int | None
    state_reason: str | None
    created_at: datetime

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


_R_SELECT = (
    "SELECT r.id, r.household_id, h.village_id, h.code, h.head_name, r.target_year,"
    " r.plan_kind, r.plan_text, r.support_asked, r.registered_on, r.recorded_by, r.state,"
    " r.state_at, r.state_by, r.state_reason, r.created_at"
    " FROM exit_registrations r JOIN households h ON h.id = r.household_id"
)


def _registration(row) -> Registration:
    return Registration(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
        tuple(json.loads(row[8])), date.fromisoformat(row[9]), row[10], row[11],
        parse_iso(row[12]), row[13], row[14], parse_iso(row[15]),
    )


async def _registration_event(
    conn: aiosqlite.Connection, registration_id: int, before: str | None, after: str,
    actor: Actor, at: datetime, reason: str | None,
) -> None:
    await run(
        conn,
        "INSERT INTO registration_events (registration_id, state_before, state_after,"
        " changed_by, at, reason) VALUES (?, ?, ?, ?, ?, ?)",
        (registration_id, before, after, actor.person_id, iso(at), reason),
    )


async def get_registration(
    conn: aiosqlite.Connection, registration_id: int
) -> Registration | None:
    row = await fetch_one(conn, _R_SELECT + " WHERE r.id = ?", (registration_id,))
    return _registration(row) if row else None


async def check_can_register(conn: aiosqlite.Connection, household: Household) -> None:
    """Raise the ``HouseholdError`` ``register_exit`` would raise for ``household`` (an open
    registration, or neither poor nor near-poor), so a dialog can refuse before it asks
    anything."""
    rows = await fetch_all(
        conn, "SELECT id, state FROM exit_registrations WHERE household_id = ? ORDER BY id",
        (household.id,),
    )
    open_ids = [r[0] for r in rows if r[1] in OPEN_STATES]
    if open_ids:
        raise HouseholdError(
            "registration.open_exists",
            f"household {household.code} already has an open registration (#{open_ids[0]})",
            registration_id=open_ids[0],
        )
    if household.status not in ("poor", "near_poor"):
        if any(r[1] == "recognised" for r in rows):
            raise HouseholdError(
                "registration.already_exited",
                f"household {household.code} is already recognised as exited",
                code=household.code)
        raise HouseholdError(
            "registration.not_poor",
            f"household {household.code} is neither poor nor near-poor ({household.status})",
            code=household.code, status=household.status)


async def registrations_of(
    conn: aiosqlite.Connection, household_id: int
) -> list[Registration]:
    """A household's registrations, oldest first."""
    rows = await fetch_all(conn, _R_SELECT + " WHERE r.household_id = ? ORDER BY r.id",
                           (household_id,))
    return [_registration(r) for r in rows]


async def register_exit(
    conn: aiosqlite.Connection,
    household_id: int,
    *,
    target_year: int,
    plan_kind: str,
    plan_text: str = "",
    support_asked: Iterable[str] = (),
    registered_on: date,
    actor: Actor,
    at: datetime,
) -> Registration:
    """Record a household's voluntary registration to exit (poverty, or near-poverty); audited.

    Refused (``HouseholdError``) when the household is neither poor nor near-poor —
    ``registration.already_exited`` if a registration of it was recognised,
    ``registration.not_poor`` otherwise — or already has an open registration
    (``registration.open_exists``; the partial unique index ``exit_registrations_open``
    enforces it too).
    """
    household = await get_household(conn, household_id)
    if household is None:
        raise HouseholdError("household.not_found", f"no household #{household_id}")
    await check_can_register(conn, household)
    support = tuple(support_asked)
    plan_text = normalise_name(plan_text)
    (registration_id,) = await fetch_one(
        conn,
        "INSERT INTO exit_registrations (household_id, target_year, plan_kind, plan_text,"
        " support_asked, registered_on, recorded_by, state, state_at, state_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?) RETURNING id",
        (household_id, target_year, plan_kind, plan_text,
         json.dumps(list(support), ensure_ascii=False), registered_on.isoformat(),
         actor.person_id, iso(at), actor.person_id, iso(at)),
    )
    await _registration_event(conn, registration_id, None, "registered", actor, at, None)
    at = parse_iso(iso(at))
    registration = Registration(
        registration_id, household_id, household.village_id, household.code,
        household.head_name, target_year, plan_kind, plan_text, support, registered_on,
        actor.person_id, "registered", at, actor.person_id, None, at,
    )
    await record(
        conn, actor=actor, action="register", entity="registration",
        entity_id=registration_id, at=at,
        after={"household_id": household_id, "target_year": target_year,
               "plan_kind": plan_kind, "plan_text": plan_text, "support_asked": list(support),
               "registered_on": registered_on.isoformat(), "state": "registered"},
    )
    return registration


@dataclass(frozen=True, slots=True)
class RegistrationChange:
    registration: Registration  # as it is after the call
    already: bool  # True when it was already in the state asked for: nothing was done
    change: StatusChange | None  # the household's status change when recognised


async def set_registration_state(
    conn: aiosqlite.Connection,
    registration_id: int,
    new_state: str,
    *,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
    effective_date: date | None = None,
    exit_window_months: int | None = None,
    status_after: str = "average",
) -> RegistrationChange:
    """Move a registration along its life cycle; audited, with a ``registration_events`` row.

    Allowed: registered → under_review | withdrawn | recognised | not_yet; under_review →
    recognised | not_yet | withdrawn; not_yet → under_review | withdrawn. Anything else raises
    ``HouseholdError`` (``registration.transition``). Asking for the state it is already in
    acts once: nothing is written and ``already`` is True (a double "recognise").

    ``recognised`` applies the exit through ``change_status`` on ``effective_date`` (required
    then, with ``exit_window_months``): the household becomes ``status_after`` (average by
    default) — an ``exited`` event for a poor household, ``exited_near_poor`` for a near-poor
    one; nothing when it has already left that status another way.
    """
    if new_state not in REGISTRATION_STATES:
        raise ValueError(f"unknown registration state {new_state!r}")
    reason = (normalise_name(reason) or None) if reason else None
    registration = await get_registration(conn, registration_id)
    if registration is None:
        raise HouseholdError("registration.not_found", f"no registration #{registration_id}")
    if registration.state == new_state:
        return RegistrationChange(registration, True, None)
    if new_state not in TRANSITIONS[registration.state]:
        raise HouseholdError(
            "registration.transition",
            f"registration #{registration_id} is {registration.state}: it cannot become "
            f"{new_state}", state=registration.state, new_state=new_state)
    if new_state == "recognised":
        if effective_date is None or exit_window_months is None:
            raise ValueError("recognising a registration needs effective_date and "
                             "exit_window_months")
        if status_after not in ("near_poor", "average", "other"):
            raise ValueError(f"an exit cannot lead to {status_after!r}")
    await run(
        conn,
        "UPDATE exit_registrations SET state = ?, state_at = ?, state_by = ?, state_reason = ?"
        " WHERE id = ?",
        (new_state, iso(at), actor.person_id, reason, registration_id),
    )
    await _registration_event(conn, registration_id, registration.state, new_state, actor, at,
                              reason)
    change = None
    if new_state == "recognised":
        household = await get_household(conn, registration.household_id)
        if household.status in ("poor", "near_poor"):
            change = await change_status(
                conn, household, status_after, effective_date=effective_date,
                exit_window_months=exit_window_months, actor=actor, at=at,
                reason=reason or f"exit registration #{registration_id}",
            )
    await record(
        conn, actor=actor, action="state", entity="registration", entity_id=registration_id,
        at=at, before={"state": registration.state},
        after={"state": new_state, "reason": reason,
               "event": change.event.kind if change and change.event else None},
    )
    return RegistrationChange(await get_registration(conn, registration_id), False, change)


async def registrations(
    conn: aiosqlite.Connection,
    *,
    village_id: int | None = None,
    within: Area | None = None,
    states: Iterable[str] | None = None,
) -> list[Registration]:
    """Registrations of a village, or of every village under ``within`` (in the given states),
    by village, then household code, then id."""
    sql, args = _scoped(_R_SELECT, "h.village_id", village_id, within, "registrations")
    if states is not None:
        states = list(states)
        unknown = set(states) - set(REGISTRATION_STATES)
        if unknown:
            raise ValueError(f"unknown registration states: {', '.join(sorted(unknown))}")
        sql += f" AND r.state IN ({', '.join('?' * len(states))})"
        args += states
    rows = await fetch_all(
        conn, sql + " ORDER BY h.village_id, length(h.code), h.code, r.id", args)
    return [_registration(r) for r in rows]


@dataclass(frozen=True, slots=True)
class RegistrationEvent:
    registration_id: int
    state_before: str | None
    state_after: str
    changed_by: int | None
    at: datetime
    reason: str | None


async def registration_events(
    conn: aiosqlite.Connection, registration_id: int
) -> list[RegistrationEvent]:
    """A registration's life cycle, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT registration_id, state_before, state_after, changed_by, at, reason"
        " FROM registration_events WHERE registration_id = ? ORDER BY id",
        (registration_id,),
    )
    return [RegistrationEvent(r[0], r[1], r[2], r[3], parse_iso(r[4]), r[5]) for r in rows]

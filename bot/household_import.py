"""Importing a household list (CSV or XLSX) into a village, or into the villages of a commune.

Three steps, like the area roster (``bot.importer``, whose reading machinery this reuses: header
row found in the first rows, merged cells filled, BOM, separators, blank and numbering rows):

1. ``read_households`` reads the file. Columns, Vietnamese or English, diacritics and case
   ignored: household code (Mã hộ), head's name (Họ tên chủ hộ), status (Phân loại: nghèo,
   cận nghèo, trung bình, khác), village (Thôn; required for a commune's list), and yes/no
   columns ethnic minority (Dân tộc thiểu số, or a Dân tộc column naming the group), no working
   capacity, a person with revolutionary merit, a Social Policy Bank loan.
2. ``plan`` checks every row against the villages and the households already on record and
   lists every bad row with its number and reason; ID-card-looking columns only warn, since no
   column but the ones above is ever read into the database (DOMAIN §9).
3. ``apply`` adds the new households and updates the changed ones (flags, head's name, status
   through ``change_status`` so the event is recorded), in the caller's transaction; unchanged
   rows write nothing, so importing the same file twice changes nothing the second time.
4. ``mark_complete`` (``--complete``) records that the file is the whole household list of each
   village it names, as the village head or an officer does in ``/ho`` (audited, with the
   operator as actor): from then on the list pre-fills the village's monthly report. A village
   the file may not list whole is left as it was, with the reason: households on record that
   the file lacks, a bad row of the village skipped, or a bad row whose village is not known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import aiosqlite

from bot.importer import (
    VILLAGE_ALIASES,
    Problem,
    Roster,
    RosterError,
    TableKind,
    match_title,
    pick,
    read_table,
    title_key,
)
from common.text import fold
from reports.periods import Month
from storage import households as hh
from storage.areas import Area
from storage.audit import Actor
from storage.reports import MONTHLY_FORM, current_report

FLAGS = hh.FLAGS
FIELD_TITLES = {
    "code": "Mã hộ / code",
    "head_name": "Họ tên chủ hộ / head name",
    "status": "Phân loại / status",
    "village": "Thôn / Bản / Tổ dân phố / village",
    "ethnic_minority": "Dân tộc thiểu số / ethnic minority",
    "ethnicity": "Dân tộc / ethnicity",
    "no_work_capacity": "Không có khả năng lao động / no work capacity",
    "has_merit": "Có người có công / has merit",
    "has_loan": "Vay vốn NHCSXH / has loan",
}
_ALIASES = {
    "code": (
        "ma ho", "code", "household code", "ma so ho", "ma ho gia dinh", "so hieu ho", "ma",
        "ma hgd", "household id",
    ),
    "head_name": (
        "ho ten chu ho", "ho va ten chu ho", "chu ho", "ten chu ho", "head name", "head",
        "head of household", "household head", "ho ten", "ho va ten", "name",
        "ten chu ho gia dinh", "ho ten chu ho gia dinh",
    ),
    "status": (
        "phan loai", "phan loai ho", "status", "loai ho", "xep loai", "tinh trang", "dien ho",
        "phan loai ho gia dinh", "household status", "category", "ket qua phan loai",
    ),
    "village": VILLAGE_ALIASES,
    "ethnic_minority": (
        "dan toc thieu so", "dtts", "ethnic minority", "ho dtts", "ho dan toc thieu so",
        "dong bao dtts", "dong bao dan toc thieu so", "la dtts", "minority",
    ),
    "ethnicity": ("dan toc", "ethnicity", "ten dan toc", "thanh phan dan toc"),
    "no_work_capacity": (
        "khong co kha nang lao dong", "ho khong co kha nang lao dong", "no work capacity",
        "khong co lao dong", "ho khong co lao dong", "khong kha nang lao dong",
        "no working capacity",
    ),
    "has_merit": (
        "co nguoi co cong", "nguoi co cong", "ho co nguoi co cong", "co cong",
        "nguoi co cong voi cach mang", "co nguoi co cong voi cach mang", "has merit", "merit",
    ),
    "has_loan": (
        "vay von nhcsxh", "vay von", "vay von ngan hang chinh sach xa hoi", "co vay von",
        "duoc vay von", "dang vay von", "vay nhcsxh", "vay von ngan hang csxh", "nhcsxh",
        "has loan", "loan", "social policy bank loan", "vay von chinh sach",
    ),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


def column_field(title: str) -> str | None:
    """The field a household-list column title stands for, or None (the column is ignored)."""
    return match_title(title, _BY_ALIAS)


HOUSEHOLDS = TableKind(
    noun="household list",
    field_of=column_field,
    titles=FIELD_TITLES,
    required=(("code",), ("head_name",), ("status",)),
    two_row_header=True,
)

# Titles of columns that look like identity documents: never read, and the operator is warned.
_ID_COLUMN = re.compile(
    r"\b(cccd|cmnd|cmt|can cuoc|dinh danh|chung minh|ho chieu|passport|id card|identity card"
    r"|national id|id number|so id)\b"
)


def looks_like_id_column(title: str) -> bool:
    return bool(_ID_COLUMN.search(title_key(title)))


def read_households(path: str | Path, sheet: str | None = None) -> Roster:
    """Read a household list; ``RosterError`` with a clear message if it cannot be read."""
    return read_table(path, HOUSEHOLDS, sheet)


# --- values ------------------------------------------------------------------------------------

_STATUS_WORDS = {
    "poor": ("ngheo", "poor", "hn"),
    "near_poor": ("can ngheo", "near poor", "near_poor", "hcn", "cn"),
    "average": (
        "trung binh", "muc song trung binh", "co muc song trung binh", "average", "tb",
        "average living standard",
    ),
    "other": ("khac", "other", "khong ngheo", "kha", "giau", "kha gia"),
}
_STATUS = {word: status for status, words in _STATUS_WORDS.items() for word in words}
STATUS_HINT = "write nghèo, cận nghèo, trung bình or khác"


def parse_status(text: str) -> str | None:
    """``"Hộ cận nghèo"`` → ``"near_poor"``; None when not understood."""
    key = " ".join(re.sub(r"[^a-z0-9_ ]", " ", fold(text)).split())
    if key.startswith("ho "):
        key = key[3:]
    return _STATUS.get(key)


_YES = {"x", "co", "1", "yes", "y", "true", "v", "c", "✓", "✔", "dung", "phai"}
_NO = {"", "0", "khong", "no", "n", "false", "-", "k", "ko"}
FLAG_HINT = "write x, có or 1 for yes; leave blank or write 0, không for no"


def parse_flag(text: str) -> bool | None:
    """``"x"``, ``"Có"``, ``"1"``, ``"yes"`` → True; blank, ``"0"``, ``"không"`` → False;
    None when not understood."""
    key = fold(text).strip(" .")
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def parse_ethnicity(text: str) -> bool | None:
    """A "Dân tộc" cell: an ethnic group's name (every one but Kinh is a minority) or yes/no."""
    flag = parse_flag(text)
    if flag is not None:
        return flag
    key = fold(text).strip(" .")
    if key in ("kinh", "viet", "dan toc kinh"):
        return False
    return True if re.search(r"[a-z]", key) else None


# --- checking the rows -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HouseholdEntry:
    """One good row: the village, the code, the head's name, the status, the flags given."""

    number: int
    village: Area
    code: str
    head_name: str
    status: str
    flags: dict[str, bool]  # only the flags the file has a column for


@dataclass
class Checked:
    entries: list[HouseholdEntry]
    problems: list[Problem]
    warnings: list[str]
    ignored_columns: list[str]
    existing: dict[int, dict[str, hh.Household]]  # village id -> code -> household on record
    # The bad rows of each village (row numbers), and those whose village is not known.
    bad_rows: dict[int, list[int]] = field(default_factory=dict)
    unplaced_rows: list[int] = field(default_factory=list)


def _village_of(
    text: str, villages: Sequence[Area], target: Area, per_commune: bool, cache: dict
) -> Area | str:
    if not per_commune:
        if text and not pick([target], text, lambda a: a.name):
            return f"village «{text}» is not {target.name}, the village given by --village"
        return target
    if not text:
        return f"no village (a commune's list needs the «{FIELD_TITLES['village']}» column)"
    if text not in cache:
        found = pick(villages, text, lambda a: a.name)
        if len(found) == 1:
            cache[text] = found[0]
        elif found:
            cache[text] = f"village «{text}» is ambiguous in {target.name}: " + ", ".join(
                f"{a.name} (#{a.id})" for a in found)
        else:
            cache[text] = f"unknown village «{text}» in {target.name}"
    return cache[text]


def _check_row(row, *, villages, target, per_commune, columns, cache
               ) -> HouseholdEntry | tuple[list[str], Area | None]:
    v = row.values
    reasons: list[str] = []
    code = hh.normalise_code(v.get("code", ""))
    if not code:
        reasons.append("no household code")
    name = hh.normalise_name(v.get("head_name", ""))
    if not name:
        reasons.append("no head name")
    status_text = v.get("status", "")
    status = parse_status(status_text) if status_text else None
    if not status_text:
        reasons.append(f"no status ({STATUS_HINT})")
    elif status is None:
        reasons.append(f"status «{status_text}» not understood ({STATUS_HINT})")
    flags: dict[str, bool] = {}
    for flag in FLAGS:
        if flag in columns:
            value = parse_flag(v.get(flag, ""))
            if value is None:
                reasons.append(f"«{columns[flag]}» value «{v[flag]}» not understood "
                               f"({FLAG_HINT})")
            else:
                flags[flag] = value
    if "ethnic_minority" not in columns and "ethnicity" in columns:
        value = parse_ethnicity(v.get("ethnicity", ""))
        if value is None:
            reasons.append(f"«{columns['ethnicity']}» value «{v['ethnicity']}» not understood "
                           "(write the ethnic group, e.g. Kinh, Thái, Mông)")
        else:
            flags["ethnic_minority"] = value
    village = _village_of(v.get("village", ""), villages, target, per_commune, cache)
    if isinstance(village, str):
        reasons.append(village)
        village = None
    if reasons:
        return reasons, village
    return HouseholdEntry(row.number, village, code, name, status, flags)


async def plan(
    conn: aiosqlite.Connection,
    roster: Roster,
    *,
    target: Area,
    villages: Sequence[Area],
    per_commune: bool,
    update_names: bool = False,
) -> Checked:
    """Check every row; bad rows become problems with their row number and reason.

    ``target`` is the village (``per_commune`` False) or the commune whose ``villages`` the
    rows name. A code twice in the file, or already on record in the village under another
    head's name (unless ``update_names``), is a bad row.
    """
    if per_commune and "village" not in roster.columns:
        raise RosterError(
            f"{roster.source}: missing required column: «{FIELD_TITLES['village']}» "
            "(a commune's list must say each household's village)"
        )
    if not per_commune:
        villages = [target]
    warnings = [
        f"column «{title}» looks like ID-card numbers: it is ignored and never stored"
        for title in roster.ignored if looks_like_id_column(title)
    ]
    if "ethnic_minority" in roster.columns and "ethnicity" in roster.columns:
        warnings.append(f"both «{roster.columns['ethnic_minority']}» and "
                        f"«{roster.columns['ethnicity']}»: the first one is used")
    ignored = [t for t in roster.ignored if not looks_like_id_column(t)]
    existing = {
        village.id: {h.code: h for h in await hh.list_households(conn, village.id)}
        for village in villages
    }
    entries: list[HouseholdEntry] = []
    problems: list[Problem] = []
    bad_rows: dict[int, list[int]] = {}
    unplaced: list[int] = []
    seen: dict[tuple[int, str], int] = {}
    cache: dict = {}

    def bad(number: int, reason: str, village: Area | None) -> None:
        problems.append(Problem(number, reason))
        if village is None:
            unplaced.append(number)
        else:
            bad_rows.setdefault(village.id, []).append(number)

    for row in roster.rows:
        result = _check_row(row, villages=villages, target=target, per_commune=per_commune,
                            columns=roster.columns, cache=cache)
        if isinstance(result, tuple):
            reasons, village = result
            bad(row.number, "; ".join(reasons), village)
            continue
        key = (result.village.id, result.code)
        if key in seen:
            bad(row.number, f"household code {result.code} is also on row {seen[key]} "
                            f"({result.village.name})", result.village)
            continue
        seen[key] = row.number
        on_record = existing[result.village.id].get(result.code)
        if (on_record is not None and not update_names
                and fold(on_record.head_name) != fold(result.head_name)):
            bad(row.number,
                f"household code {result.code} is already «{on_record.head_name}» in "
                f"{result.village.name} (the row says «{result.head_name}»); fix the code, or "
                "use --update-names if the head of the household changed", result.village)
            continue
        entries.append(result)
    if not roster.rows:
        problems.append(Problem(roster.header_row, "no rows below the header"))
    return Checked(entries, problems, warnings, ignored, existing, bad_rows, unplaced)


# --- writing -----------------------------------------------------------------------------------

@dataclass
class VillageCount:
    rows: int = 0
    created: int = 0
    updated: int = 0
    status_changed: int = 0
    unchanged: int = 0
    not_in_file: int = 0


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)  # "Bản Nà Khan: HN01 Lò Văn Páo (poor)"
    updated: list[str] = field(default_factory=list)  # "...: HN01 has_loan False → True"
    status_changes: list[str] = field(default_factory=list)  # "...: HN01 poor → average (exited)"
    events: dict[str, int] = field(default_factory=dict)  # event kind -> count
    by_village: dict[int, VillageCount] = field(default_factory=dict)
    village_names: dict[int, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.status_changes)


def _show(value: object) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else f"«{value}»"


async def apply(
    conn: aiosqlite.Connection,
    checked: Checked,
    *,
    on: date,
    exit_window_months: int,
    actor: Actor,
    at: datetime,
    source: str,
) -> Outcome:
    """Add or update the households of ``checked.entries`` in the caller's transaction.

    New households get status ``since`` = ``on``; a changed status is applied through
    ``change_status`` with ``on`` as its effective date (an event with no recognising person).
    """
    outcome = Outcome()
    listed: dict[int, set[str]] = {vid: set() for vid in checked.existing}
    reason = f"import {source}"
    new: dict[int, list[hh.NewHousehold]] = {}
    for entry in checked.entries:
        village = entry.village
        outcome.village_names[village.id] = village.name
        count = outcome.by_village.setdefault(village.id, VillageCount())
        count.rows += 1
        listed.setdefault(village.id, set()).add(entry.code)
        label = f"{village.name}: {entry.code} {entry.head_name}"
        current = checked.existing.get(village.id, {}).get(entry.code)
        if current is None:
            new.setdefault(village.id, []).append(
                hh.NewHousehold(entry.code, entry.head_name, entry.status, **entry.flags))
            outcome.created.append(f"{label} ({entry.status})")
            count.created += 1
            continue
        changes = {k: v for k, v in entry.flags.items() if getattr(current, k) != v}
        if entry.head_name != current.head_name:
            changes["head_name"] = entry.head_name
        touched = False
        if changes:
            await hh.update_household(conn, current.id, changes, actor=actor, at=at)
            shown = ", ".join(f"{k} {_show(getattr(current, k))} → {_show(v)}"
                              for k, v in changes.items())
            outcome.updated.append(f"{label}: {shown}")
            count.updated += 1
            touched = True
        if entry.status != current.status:
            change = await hh.change_status(
                conn, current.id, entry.status, effective_date=on,
                exit_window_months=exit_window_months, actor=actor, at=at, reason=reason,
            )
            kind = change.event.kind if change.event else "-"
            outcome.status_changes.append(f"{label}: {current.status} → {entry.status} ({kind})")
            outcome.events[kind] = outcome.events.get(kind, 0) + 1
            count.status_changed += 1
            touched = True
        if not touched:
            count.unchanged += 1
    for village_id, households in new.items():  # a few trips per village, not per row
        await hh.add_households(conn, village_id, households, status_since=on, actor=actor,
                                at=at, reason=reason)
    for village_id, on_record in checked.existing.items():
        missing = len(set(on_record) - listed.get(village_id, set()))
        if missing and village_id in outcome.by_village:
            outcome.by_village[village_id].not_in_file = missing
    return outcome


# --- marking the lists complete ----------------------------------------------------------------

REPORT_MONTHS = 3  # months looked back for the total a village reported, to set its list against


@dataclass(frozen=True, slots=True)
class ListMark:
    """What ``--complete`` did (or would do) with one village's household list."""

    village: Area
    households: int  # in the list, after the import
    state: str  # marked | already | refused
    reasons: tuple[str, ...] = ()  # why it was refused
    reported: tuple[str, int] | None = None  # (month, total) of the latest monthly report


def _rows(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{more}"


async def _reported(conn: aiosqlite.Connection, village_id: int, on: date
                    ) -> tuple[str, int] | None:
    """The month and total of households of the village's latest monthly report, looking
    back ``REPORT_MONTHS`` months from ``on``."""
    period = Month.of(on)
    for _ in range(REPORT_MONTHS):
        report = await current_report(conn, village_id, MONTHLY_FORM, period.key)
        if report is not None and report.data.get("total") is not None:
            return period.label, int(report.data["total"])
        period = period.previous()
    return None


async def mark_complete(
    conn: aiosqlite.Connection,
    checked: Checked,
    outcome: Outcome,
    *,
    target: Area,
    on: date,
    actor: Actor,
    at: datetime,
) -> list[ListMark]:
    """Mark complete the household list of every village the file names (after ``apply``, in
    the same transaction), except where the file may not be its whole list; audited."""
    period = Month.of(on).key
    marks: list[ListMark] = []
    villages = {e.village.id: e.village for e in checked.entries}
    for village_id, village in villages.items():
        listed = await hh.household_list(conn, village_id, period)
        reasons = []
        count = outcome.by_village.get(village_id)
        if count is not None and count.not_in_file:
            n = count.not_in_file
            reasons.append(f"{n} household{'' if n == 1 else 's'} on record "
                           f"{'is' if n == 1 else 'are'} not in the file")
        if checked.bad_rows.get(village_id):
            rows = checked.bad_rows[village_id]
            reasons.append(f"{_rows(rows)} of {village.name} "
                           f"{'was' if len(rows) == 1 else 'were'} skipped as bad")
        if checked.unplaced_rows:
            rows = checked.unplaced_rows
            reasons.append(f"{_rows(rows)} name{'s' if len(rows) == 1 else ''} no village of "
                           f"{target.name} (it may be one of this village's)")
        reported = await _reported(conn, village_id, on)
        if reasons:
            marks.append(ListMark(village, listed.households, "refused", tuple(reasons),
                                  reported))
        elif listed.complete:
            marks.append(ListMark(village, listed.households, "already", (), reported))
        else:
            marked = await hh.mark_household_list(conn, village_id, complete=True, actor=actor,
                                                  at=at, period=period)
            marks.append(ListMark(village, marked.households, "marked", (), reported))
    return marks

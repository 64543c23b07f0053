"""Importing a village roster (CSV or XLSX) into the area tree.

Three steps, each testable on its own:

1. ``read_roster`` reads the file: finds the header row (in the first 10 rows), maps Vietnamese
   or English column titles to fields, fills merged cells, skips blank rows.
2. ``check`` matches every row to the official list of provinces and communes
   (``data/vn-admin-units-2025.csv``) by code or by name without diacritics, and lists every
   bad row with its number and the reason.
3. ``import_entries`` creates the missing province, commune and village areas (or reuses the
   existing ones) in the caller's transaction; the caller rolls back for a dry run or when a
   row conflicts with the database.

The reading step is shared: ``read_table`` reads any list whose header a ``TableKind`` describes
(the household list of ``bot.household_import`` uses it too).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import aiosqlite

from common.text import clean_inbound, fold
from storage import areas
from storage.areas import Area
from storage.audit import Actor

ROOT = Path(__file__).resolve().parent.parent
ADMIN_UNITS = ROOT / "data" / "vn-admin-units-2025.csv"
HEADER_SEARCH_ROWS = 10


class RosterError(Exception):
    """The roster (or the official list) cannot be read at all; the message says why."""


# --- text helpers ------------------------------------------------------------------------------

def clean(value: object) -> str:
    """A cell as text: NFC, single spaces, whole numbers without ``.0`` (Excel), and none
    of the characters nobody sees (controls, zero-width spaces, direction marks, a byte-order
    mark; ``common.text.clean_inbound``): a name or code pasted from a chat or a web page is
    stored as it is seen."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if not (text.isascii() and text.isprintable()):
        text = clean_inbound(text)[0]
    return " ".join(unicodedata.normalize("NFC", text).split())


# Words that name the kind of an area in front of its name ("Xã Tân Lập", "Tỉnh Lai Châu").
_KIND_WORDS = (
    "thanh pho", "tp", "tinh", "dac khu", "thi tran", "thi xa", "phuong", "xa", "huyen",
    "quan", "to dan pho", "khu pho", "thon", "ban", "ap", "buon",
)
_KIND_RE = re.compile(r"^(?:" + "|".join(map(re.escape, _KIND_WORDS)) + r")\b\.?\s*")


@lru_cache(maxsize=65536)
def _fold(name: str) -> str:
    return fold(name)


@lru_cache(maxsize=65536)
def base_name(name: str) -> str:
    """``fold(name)`` without the kind word in front: ``"Xã Tân Lập"`` → ``"tan lap"``."""
    folded = fold(name)
    stripped = _KIND_RE.sub("", folded, count=1).strip(" .")
    return stripped or folded


@lru_cache(maxsize=65536)
def exact(name: str) -> str:
    """Case-insensitive comparison key that keeps the diacritics."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def pick(candidates: Sequence, query: str, name_of) -> list:
    """The candidates ``query`` names, best tier first.

    Tiers: same name with diacritics; same name without diacritics; same name without the kind
    word and with diacritics ("Tân Lập" for "Xã Tân Lập"); the same without diacritics. The first
    tier with any match wins, so "Xã Đồng Tiến" tells it apart from "Phường Đông Tiến".
    """
    tiers = (
        lambda c: exact(name_of(c)) == exact(query),
        lambda c: _fold(name_of(c)) == _fold(query),
        lambda c: exact(_strip_kind(name_of(c))) == exact(_strip_kind(query)),
        lambda c: base_name(name_of(c)) == base_name(query),
    )
    for test in tiers:
        found = [c for c in candidates if test(c)]
        if found:
            return found
    return []


@lru_cache(maxsize=65536)
def _strip_kind(name: str) -> str:
    """``name`` without its kind word, diacritics kept (``"Xã Tân Lập"`` → ``"Tân Lập"``)."""
    words = name.split()
    for size in (3, 2, 1):
        if len(words) > size and fold(" ".join(words[:size])).rstrip(".") in _KIND_WORDS:
            return " ".join(words[size:])
    return name


# --- the official list of provinces and communes --------------------------------------------

@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    kind: str  # Xã, Phường, Đặc khu
    province_code: str

    @property
    def urban(self) -> bool:
        return self.kind == "Phường"


@dataclass
class AdminUnits:
    """The official provinces and communes, indexed for matching."""

    provinces: dict[str, Province]
    communes: dict[str, Commune]
    by_province: dict[str, list[Commune]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = ADMIN_UNITS) -> AdminUnits:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise RosterError(f"official list of communes not found: {path}") from exc
        reader = csv.DictReader(io.StringIO(text))
        need = {"province_code", "province_name", "commune_code", "commune_name", "commune_type"}
        if not need <= set(reader.fieldnames or ()):
            raise RosterError(
                f"{path} is not a list of administrative units: it needs the columns "
                + ", ".join(sorted(need))
            )
        provinces: dict[str, Province] = {}
        communes: dict[str, Commune] = {}
        by_province: dict[str, list[Commune]] = {}
        for row in reader:
            pcode, ccode = row["province_code"].strip(), row["commune_code"].strip()
            provinces.setdefault(pcode, Province(pcode, clean(row["province_name"])))
            name = clean(row["commune_name"])
            # The name's own kind word wins: a few rows of the source disagree with their type.
            kind = next(
                (k for k in ("Phường", "Xã", "Đặc khu") if fold(name).startswith(fold(k) + " ")),
                clean(row["commune_type"]),
            )
            commune = Commune(ccode, name, kind, pcode)
            communes[ccode] = commune
            by_province.setdefault(pcode, []).append(commune)
        return cls(provinces, communes, by_province)

    def province(self, text: str) -> Province | str:
        """The province ``text`` names (code or name), or the reason it names none."""
        text = clean(text)
        if text.isdigit():
            found = self.provinces.get(text.zfill(2))
            return found or f"unknown province code {text}"
        query = {"hcm": "Hồ Chí Minh", "tp hcm": "Hồ Chí Minh", "tphcm": "Hồ Chí Minh"}.get(
            " ".join(fold(text).replace(".", " ").split()), text
        )
        matches = pick(list(self.provinces.values()), query, lambda p: p.name)
        if len(matches) == 1:
            return matches[0]
        return (
            f"unknown province «{text}» (since 1 July 2025 there are 34 provinces: use the new "
            "province's name or code)"
        )

    def commune_by_code(self, text: str) -> Commune | None:
        return self.communes.get(text.zfill(5)) if text.isdigit() else None

    def commune(self, province: Province, text: str) -> Commune | str:
        """The commune of ``province`` that ``text`` names, or the reason it names none."""
        matches = pick(self.by_province.get(province.code, []), text, lambda c: c.name)
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(f"{c.name} ({c.code})" for c in matches)
            return (
                f"commune «{text}» is ambiguous in {province.name}: {listed}; "
                "write it with diacritics or add a commune code column"
            )
        return f"unknown commune «{text}» in {province.name}"


# --- reading the roster ----------------------------------------------------------------------

FIELDS = ("province", "province_code", "commune", "commune_code", "village", "urban")
FIELD_TITLES = {
    "province": "Tỉnh / province",
    "province_code": "Mã tỉnh / province_code",
    "commune": "Xã / Phường / commune",
    "commune_code": "Mã xã / commune_code",
    "village": "Thôn / Bản / Tổ dân phố / village",
    "urban": "Thành thị / urban",
}
_ALIASES = {
    "province": (
        "tinh", "province", "tinh thanh pho", "tinh thanh", "ten tinh", "tinh tp", "thanh pho",
    ),
    "province_code": ("ma tinh", "province code", "ma tinh thanh pho"),
    "commune": (
        "xa", "phuong", "commune", "ward", "xa phuong", "phuong xa", "xa phuong dac khu",
        "xa phuong thi tran", "dac khu", "thi tran", "ten xa", "ten xa phuong", "don vi cap xa",
        "don vi hanh chinh cap xa", "commune ward",
    ),
    "commune_code": (
        "ma xa", "commune code", "ma xa phuong", "ma don vi", "ma don vi hanh chinh", "ward code",
    ),
    "village": (
        "thon", "ban", "to dan pho", "village", "ap", "buon", "khu pho", "to", "thon ban",
        "thon to dan pho", "thon ban to dan pho", "ten thon", "ten thon ban", "thon xom",
        "xom", "hamlet", "thon ban ap", "thon ban ap to dan pho",
    ),
    "urban": ("thanh thi", "urban", "do thi", "thanh thi nong thon"),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
VILLAGE_ALIASES = _ALIASES["village"]  # also the village column of a household list


def title_key(title: str) -> str:
    """A column title as a lookup key: folded, without notes in brackets, ``*``, ``:`` and
    punctuation (``"Tên thôn/bản (*)"`` → ``"ten thon ban"``)."""
    key = re.sub(r"\(.*?\)|[*:]", " ", fold(title))
    return " ".join(re.sub(r"[_\-/,.;]+", " ", key).split())


def match_title(title: str, by_alias: dict[str, str]) -> str | None:
    """The field ``title`` names in ``by_alias`` (alias key → field); a title made of
    alternatives (``"Thôn/Bản"``, ``"Xã hoặc Phường"``) names a field when they all agree."""
    key = title_key(title)
    if key in by_alias:
        return by_alias[key]
    parts = [p.strip() for p in re.split(r"[/,;]| hoac ", fold(title)) if p.strip()]
    if len(parts) > 1:
        names = {match_title(p, by_alias) for p in parts}
        if len(names) == 1 and None not in names:
            return names.pop()
    return None


def column_field(title: str) -> str | None:
    """The field a column title stands for (``"Tên thôn/bản"`` → ``"village"``), or None."""
    return match_title(title, _BY_ALIAS)


@dataclass(frozen=True, slots=True)
class RosterRow:
    number: int  # the row number as a spreadsheet shows it
    values: dict[str, str]


@dataclass
class Roster:
    source: str  # "roster.xlsx, sheet «Danh sách»"
    header_row: int  # the (last) header row
    columns: dict[str, str]  # field -> column title as written
    rows: list[RosterRow]
    ignored: list[str] = field(default_factory=list)  # titles of the unmapped columns


@dataclass(frozen=True)
class TableKind:
    """What the header of a kind of list looks like.

    ``field_of`` maps a column title to a field (or None); the header is the first of the first
    ``HEADER_SEARCH_ROWS`` rows naming a field of every group of ``required`` (each group: any
    one of its fields). With ``two_row_header``, the row just below it completes it when each of
    its filled cells names a field or repeats the cell above (a title merged down): a group
    title over sub-titles ("Đối tượng" over "DTTS", "Người có công").
    """

    noun: str  # "roster", "household list": how errors name the list
    field_of: Callable[[str], str | None]
    titles: dict[str, str]  # field -> how errors name its column
    required: tuple[tuple[str, ...], ...]
    two_row_header: bool = False

    def fields_in(self, cells: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            name = self.field_of(cell) if cell else None
            if name and name not in found:
                found[name] = index
        return found

    def complete(self, found: Iterable[str]) -> bool:
        found = set(found)
        return all(found & set(group) for group in self.required)


def _header(
    rows: list[tuple[int, list[str]]], kind: TableKind
) -> tuple[int, dict[str, int], bool] | None:
    """The (last) header row among ``rows``, where each field's column is, and whether the
    header takes two rows."""
    for i, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = kind.fields_in(cells)
        if not kind.complete(found):
            continue
        if kind.two_row_header and i + 1 < len(rows):
            below_number, below_cells = rows[i + 1]
            below = kind.fields_in(below_cells)
            titles = set(below.values())
            if below_number == number + 1 and below and all(
                not cell or index in titles or (index < len(cells) and cell == cells[index])
                for index, cell in enumerate(below_cells)
            ):
                for name, index in found.items():
                    if name not in below and index not in titles:
                        below[name] = index
                return below_number, below, True
        return number, found, False
    return None


def _missing_columns(rows: list[tuple[int, list[str]]], kind: TableKind) -> str:
    best: set[str] = set()
    for _, cells in rows[:HEADER_SEARCH_ROWS]:
        found = {kind.field_of(c) for c in cells if c} - {None}
        if len(found) > len(best):
            best = found
    missing = [kind.titles[group[0]] for group in kind.required if not best & set(group)]
    label = "column" if len(missing) == 1 else "columns"
    return f"missing required {label}: " + "; ".join(f"«{m}»" for m in missing) + (
        f" (looked for a header row in the first {HEADER_SEARCH_ROWS} rows)"
    )


ROSTER = TableKind(
    noun="roster",
    field_of=column_field,
    titles=FIELD_TITLES,
    required=(("commune", "commune_code"), ("village",)),
)


def _roster(
    source: str, rows: list[tuple[int, list[str]]], kind: TableKind = ROSTER
) -> Roster:
    found = _header(rows, kind)
    if found is None:
        raise RosterError(f"{source}: {_missing_columns(rows, kind)}")
    header_number, columns, two_rows = found
    header_cells = next(cells for n, cells in rows if n == header_number)
    titles = {name: header_cells[index] for name, index in columns.items()}
    # The unmapped columns' titles (of a two-row header, from either row).
    above = next((cells for n, cells in rows if n == header_number - 1), []) if two_rows else []
    ignored = []
    for index in range(max(len(header_cells), len(above))):
        if index in columns.values():
            continue
        title = header_cells[index] if index < len(header_cells) else ""
        if not title and index < len(above):
            title = above[index]
        if title and title not in ignored:
            ignored.append(title)
    out = []
    for number, cells in rows:
        if number <= header_number or not any(cells):
            continue
        values = {
            name: (cells[index] if index < len(cells) else "") for name, index in columns.items()
        }
        if not any(values.values()):
            continue  # only extra columns filled (a note beside the table)
        if not out and _is_numbering(cells):
            continue  # "(1) (2) (3)" under the header, as official forms have
        out.append(RosterRow(number, values))
    return Roster(source, header_number, titles, out, ignored)


_NUMBER = re.compile(r"^\(?(\d{1,2})\)?$")


def _is_numbering(cells: list[str]) -> bool:
    """True for a row of column numbers: ``1 2 3 4`` or ``(1) (2) (3)``."""
    numbers = [_NUMBER.match(c) for c in cells if c]
    if len(numbers) < 2 or not all(numbers):
        return False
    values = [int(m[1]) for m in numbers]
    return values == list(range(values[0], values[0] + len(values)))


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{name}: cannot read the text (save the file as CSV UTF-8)")


def _delimiter(lines: Iterable[str]) -> str:
    sample = [line for line in lines if line.strip()][:HEADER_SEARCH_ROWS + 5]
    counts = {d: sum(line.count(d) for line in sample) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(path: Path, kind: TableKind = ROSTER) -> Roster:
    text = _decode(path.read_bytes(), path.name)
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines))
    rows = [(number, [clean(c) for c in cells]) for number, cells in enumerate(reader, 1)]
    return _roster(path.name, rows, kind)


def sheet_names(path: Path) -> list[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _sheet_rows(sheet) -> list[tuple[int, list[str]]]:
    """The sheet's rows as text, every cell of a merged range carrying its value."""
    merged: dict[tuple[int, int], object] = {}
    for cells in sheet.merged_cells.ranges:
        value = sheet.cell(cells.min_row, cells.min_col).value
        for row in range(cells.min_row, cells.max_row + 1):
            for col in range(cells.min_col, cells.max_col + 1):
                merged[(row, col)] = value
    rows = []
    for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
        cells = [
            clean(merged.get((number, col), value)) for col, value in enumerate(row, 1)
        ]
        rows.append((number, cells))
    return rows


def read_xlsx(path: Path, sheet: str | None = None, kind: TableKind = ROSTER) -> Roster:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise RosterError(f"{path.name}: not a readable Excel file ({exc})") from exc
    try:
        names = workbook.sheetnames
        listed = ", ".join(f"«{n}»" for n in names)
        if sheet is not None:
            chosen = [n for n in names if n == sheet] or [n for n in names
                                                          if fold(n) == fold(sheet)]
            if not chosen:
                raise RosterError(
                    f"{path.name} has no sheet named «{sheet}»; available sheets: {listed}"
                )
            name = chosen[0]
            return _roster(f"{path.name}, sheet «{name}»", _sheet_rows(workbook[name]), kind)
        first_error = None
        for name in names:
            try:
                return _roster(f"{path.name}, sheet «{name}»", _sheet_rows(workbook[name]),
                               kind)
            except RosterError as exc:
                first_error = first_error or exc
        raise RosterError(
            f"{first_error}; no sheet has a {kind.noun} header (sheets: {listed}; choose one "
            "with --sheet)"
        )
    finally:
        workbook.close()


def read_roster(path: str | Path, sheet: str | None = None) -> Roster:
    """Read a CSV or XLSX roster; raise ``RosterError`` with a clear message if it cannot."""
    return read_table(path, ROSTER, sheet)


def read_table(path: str | Path, kind: TableKind, sheet: str | None = None) -> Roster:
    """Read a CSV or XLSX list of ``kind``: header found in the first rows, merged cells
    filled, BOM and separator detected, blank rows skipped. ``RosterError`` if it cannot."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise RosterError(f"{path.name}: old Excel format (.xls); save it as .xlsx or CSV")
    with path.open("rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"
    if suffix in (".xlsx", ".xlsm") or is_zip:
        return read_xlsx(path, sheet, kind)
    if sheet is not None:
        raise RosterError(f"{path.name} is a CSV file: --sheet only applies to Excel files")
    return read_csv(path, kind)


# --- checking the rows -----------------------------------------------------------------------

_YES = {"1", "x", "co", "yes", "y", "true", "urban", "thanh thi", "do thi", "phuong", "v"}
_NO = {"0", "khong", "no", "n", "false", "rural", "nong thon", "-"}


def parse_urban(text: str) -> bool | None | str:
    """True, False, None (blank: inherit) or the reason the value is not understood."""
    key = fold(text).strip(" .")
    if not key:
        return None
    if key in _YES or key == "✓":
        return True
    if key in _NO:
        return False
    return f"urban flag «{text}» not understood (write 1/có/x for urban, 0/không for rural)"


@dataclass(frozen=True, slots=True)
class Entry:
    """One good row: the official province and commune, the village name, the urban flag."""

    number: int
    province: Province
    commune: Commune
    village: str
    urban: bool | None  # None: inherit the commune's


@dataclass(frozen=True, slots=True)
class Problem:
    number: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.number}: {self.reason}"


@dataclass
class Checked:
    entries: list[Entry]
    problems: list[Problem]


def _check_row(
    row: RosterRow, units: AdminUnits, fixed: Province | None
) -> Entry | str:
    v = row.values
    province: Province | None = fixed
    given = v.get("province_code") or v.get("province")
    if given:
        found = units.province(given)
        if isinstance(found, str):
            return found
        if fixed is not None and found != fixed:
            return (
                f"province «{given}» is not {fixed.name}, the province given by --province-code"
            )
        province = found
    code = v.get("commune_code", "")
    name = v.get("commune", "")
    if code:
        commune = units.commune_by_code(code)
        if commune is None:
            return f"unknown commune code {code}"
        if province is not None and commune.province_code != province.code:
            owner = units.provinces[commune.province_code].name
            return f"commune code {code} ({commune.name}) is in {owner}, not {province.name}"
        if name and not pick([commune], name, lambda c: c.name):
            return f"commune code {code} is {commune.name}, but the row says «{name}»"
        province = units.provinces[commune.province_code]
    elif name:
        if province is None:
            return "no province (fill the province column or use --province-code)"
        found_commune = units.commune(province, name)
        if isinstance(found_commune, str):
            return found_commune
        commune = found_commune
    else:
        return "no commune name or code"
    village = v.get("village", "")
    if not village:
        return "no village name"
    urban = parse_urban(v.get("urban", ""))
    if isinstance(urban, str):
        return urban
    return Entry(row.number, province, commune, village, urban)


def check(
    roster: Roster, units: AdminUnits, province_code: str | None = None
) -> Checked:
    """Match every row to the official list; bad rows become problems with their reason."""
    fixed = None
    if province_code is not None:
        fixed = units.provinces.get(province_code.strip().zfill(2))
        if fixed is None:
            raise RosterError(f"--province-code {province_code}: no such province")
    has_province = bool({"province", "province_code", "commune_code"} & roster.columns.keys())
    if fixed is None and not has_province:
        raise RosterError(
            f"{roster.source}: missing required column: «{FIELD_TITLES['province']}» "
            "(or give --province-code, or a «Mã xã / commune_code» column)"
        )
    entries, problems = [], []
    for row in roster.rows:
        result = _check_row(row, units, fixed)
        if isinstance(result, str):
            problems.append(Problem(row.number, result))
        else:
            entries.append(result)
    if not roster.rows:
        problems.append(Problem(roster.header_row, "no rows below the header"))
    return Checked(entries, problems)


# --- writing the areas -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Levels:
    """The level keys the roster's three columns map to (from the config)."""

    province: str
    commune: str
    village: str

    @classmethod
    def from_config(cls, config) -> Levels:
        keys = list(config.level_keys())
        report = config.report_level
        index = keys.index(report)
        if index < 2:
            raise RosterError(
                "areas.levels needs at least a province and a commune level above "
                f"areas.report_level ({report!r}) to import a roster"
            )
        return cls(keys[0], keys[index - 1], report)


@dataclass
class Outcome:
    created: list[tuple[str, str]] = field(default_factory=list)  # (level, "A › B › C")
    existing: dict[str, set[int]] = field(default_factory=dict)  # level -> area ids
    updated: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    created_ids: set[int] = field(default_factory=set)
    known: dict[tuple[str, str], Area] = field(default_factory=dict)  # (level, code) -> area
    urban_set: dict[int, bool] = field(default_factory=dict)  # area id -> flag the roster set

    def count(self, level: str) -> tuple[int, int]:
        made = sum(1 for lv, _ in self.created if lv == level)
        return made, len(self.existing.get(level, ()))


class _Conflict(Exception):
    pass


async def _get_or_create(
    conn: aiosqlite.Connection,
    outcome: Outcome,
    *,
    parent: Area | None,
    level: str,
    name: str,
    code: str | None,
    urban: bool,
    label: str,
    actor: Actor,
    at: datetime,
) -> tuple[Area, bool]:
    """The existing area (by code, else by name under ``parent``) or a new one."""
    if code and (level, code) in outcome.known:
        return outcome.known[(level, code)], False
    area, new = await _find_or_create(
        conn, outcome, parent=parent, level=level, name=name, code=code, urban=urban,
        label=label, actor=actor, at=at,
    )
    if code:
        outcome.known[(level, code)] = area
    return area, new


async def _find_or_create(
    conn: aiosqlite.Connection,
    outcome: Outcome,
    *,
    parent: Area | None,
    level: str,
    name: str,
    code: str | None,
    urban: bool,
    label: str,
    actor: Actor,
    at: datetime,
) -> tuple[Area, bool]:
    area = await areas.area_by_code(conn, level, code) if code else None
    if area is not None and area.parent_id != (parent.id if parent else None):
        raise _Conflict(f"{name} (code {code}) already exists elsewhere in the tree (#{area.id})")
    if area is None:
        area = await areas.child_by_name(conn, parent, name)
        if area is not None and (area.level != level or (code and area.code not in (None, code))):
            raise _Conflict(
                f"an area named «{area.name}» (#{area.id}, {area.level}, code {area.code}) "
                f"already exists where {name} ({level}, code {code}) should go"
            )
    if area is not None:
        outcome.existing.setdefault(level, set()).add(area.id)
        return area, False
    area = await areas.add_area(
        conn, parent=parent, level=level, name=name, code=code, urban=urban, actor=actor, at=at
    )
    outcome.created.append((level, label))
    outcome.created_ids.add(area.id)
    return area, True


async def import_entries(
    conn: aiosqlite.Connection,
    entries: Iterable[Entry],
    *,
    levels: Levels,
    actor: Actor,
    at: datetime,
) -> Outcome:
    """Create or reuse the areas of ``entries`` in the caller's transaction.

    Conflicts with the database become problems; the caller commits only when there are none.
    """
    outcome = Outcome()
    for entry in entries:
        try:
            province, _ = await _get_or_create(
                conn, outcome, parent=None, level=levels.province, name=entry.province.name,
                code=entry.province.code, urban=False, label=entry.province.name,
                actor=actor, at=at,
            )
            commune, _ = await _get_or_create(
                conn, outcome, parent=province, level=levels.commune, name=entry.commune.name,
                code=entry.commune.code, urban=entry.commune.urban,
                label=f"{province.name} › {entry.commune.name}", actor=actor, at=at,
            )
            urban = commune.urban if entry.urban is None else entry.urban
            label = f"{province.name} › {commune.name} › {entry.village}"
            village, new = await _get_or_create(
                conn, outcome, parent=commune, level=levels.village, name=entry.village,
                code=None, urban=urban, label=label, actor=actor, at=at,
            )
            if entry.urban is None:
                continue
            if outcome.urban_set.setdefault(village.id, entry.urban) != entry.urban:
                raise _Conflict(
                    f"«{entry.village}» appears more than once with different urban flags"
                )
            if not new and village.urban != entry.urban:
                await areas.set_area_urban(conn, village, entry.urban, actor=actor, at=at)
                outcome.updated.append(f"{label}: now {'urban' if entry.urban else 'rural'}")
        except _Conflict as exc:
            outcome.problems.append(Problem(entry.number, str(exc)))
    for ids in outcome.existing.values():
        ids -= outcome.created_ids  # made earlier in this import: not "existing"
    return outcome

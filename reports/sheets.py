"""Spreadsheets for officers: xlsx workbooks built from ``reports.figures`` data.

Every function here is pure: data in, the bytes of an xlsx file out, ready to be sent as a
document (``file_name`` gives its name). Scope is the caller's business: the household and
registration lists are built for whoever asks, so ask only for an officer's own area.

Layout, the same in every workbook: a title block (report name, area, period, "data as of",
a note), one bold, wrapped, bordered and filled header row, the data rows, a bold totals row.
Panes are frozen below the header; printing is A4 landscape, one page wide, the header row
repeated on every page and a footer with the page number. Every text shown comes from the
message catalogue.

Values, not formulas. Totals, subtotals, rates and changes are computed here and written as
plain numbers. openpyxl cannot store a formula's cached result, so a formula cell would be
empty (or 0) wherever nothing recalculates the file: Telegram's and phones' previews, some
viewers officers use, and any program that reads the file back, tests included. Plain values
read the same everywhere. Rates and changes are rounded to two decimals before they are
written, so the stored value is exactly the value shown (``0.00``): what an officer copies
into a report is what the sheet says.

Written row by row in openpyxl's write-only mode (its documented mode for large files): a
workbook takes the same small memory for a village as for a province's 180,000 households,
and each cell's look is one of a few named styles set by name — openpyxl compares a style's
parts again each time one is set on a cell, which was most of the time of a long list. The
functions run in a worker process (``build``, through ``reports.charts.ChartRenderer``), never
on the bot's event loop.

Other conventions: ``None`` is an empty cell, never 0; counts and money use ``#,##0``; dates
are real dates with a ``dd/mm/yyyy`` format; yes flags are an ``x``. Text typed by people
(notes, names, plans) is always written as text: a note starting with ``=`` stays a note
and never becomes a formula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from common.catalogue import t
from common.numbers import format_count
from common.text import fold
from reports.figures import (
    Carried,
    HouseholdSheetData,
    MonthlySheetData,
    RegistrationSheetData,
    SummaryRow,
    SummarySheetData,
    VillageMonthRow,
    area_key,
    month_label,
    name_key,
    rate,
)

__all__ = [
    "FILE_KINDS",
    "build",
    "file_name",
    "households_workbook",
    "monthly_workbook",
    "registrations_workbook",
    "summary_workbook",
]

# Number formats.
COUNT = "#,##0"
MONEY = "#,##0"
RATE = "0.00"
CHANGE = "+0.00;-0.00;0.00"  # changes show their sign
DAY = "dd/mm/yyyy"
MOMENT = "dd/mm/yyyy hh:mm"

_FILED_AT = "%d/%m/%Y %H:%M"  # how VillageMonthRow.filed_at is written
_MAX_TEXT = 32767  # Excel's limit for one cell
_MAX_TITLE = 31  # Excel's limit for a sheet title
_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_MISSING_FILL = PatternFill("solid", fgColor="FCE4D6")
_CARRIED_FILL = PatternFill("solid", fgColor="FFF2CC")  # figures of an earlier month
_BOLD = Font(bold=True)
_TITLE_FONT = Font(bold=True, size=14)
_NOTE_FONT = Font(italic=True)
_HEADER_HEIGHT = 48  # points: three lines of a wrapped header

# The kinds of file ``file_name`` names, each with the catalogue words its name starts with.
FILE_KINDS: dict[str, str] = {
    "monthly": "sheet.file.monthly",
    "summary": "sheet.file.summary",
    "households": "sheet.file.households",
    "registrations": "sheet.file.registrations",
}


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    width: float
    number_format: str | None = None  # for numbers and dates; text is written as text
    align: str = "left"
    wrap: bool = False


# The looks of a data cell (each with its column's number format and alignment, bordered).
_PLAIN, _TOTAL, _CARRIED, _MISSING = "row", "total", "carried", "missing"
_LOOKS: dict[str, tuple[str, Font | None, PatternFill | None]] = {  # name, font, fill
    _PLAIN: ("sheet.style.row", None, None),
    _TOTAL: ("sheet.style.total", _BOLD, _TOTAL_FILL),
    _CARRIED: ("sheet.style.carried", _NOTE_FONT, _CARRIED_FILL),
    _MISSING: ("sheet.style.missing", _NOTE_FONT, _MISSING_FILL),
}


# ---- public API -------------------------------------------------------------------------------


def build(kind: str, data: Any) -> bytes:
    """Workbook ``kind`` (one of ``FILE_KINDS``) of ``data``: what a worker process runs."""
    builders = {"monthly": monthly_workbook, "summary": summary_workbook,
                "households": households_workbook, "registrations": registrations_workbook}
    if kind not in builders:
        raise ValueError(f"unknown spreadsheet kind {kind!r}; one of {sorted(builders)}")
    return builders[kind](data)


def monthly_workbook(data: MonthlySheetData) -> bytes:
    """The monthly figures of all villages of ``data.area``: one sheet per month.

    Villages are grouped by commune, communes and villages in the one order of areas
    (``reports.figures.area_key``: alphabetical, diacritics folded, numbers in order, as in
    every sheet); when there is more than one commune each group ends with a subtotal row.
    The last row is the grand total. A village that did not file keeps its row: with the
    figures of its earlier report that the statistics count in its place (in italics, on a
    light yellow fill, and «Chưa gửi — dùng số liệu tháng 9/2026» in the filing column; the
    month's flows, support and note stay empty), or, with nothing recent enough to count,
    empty figures and "Chưa gửi". Rates are computed from each row's own figures (poor ÷
    households), totals from the village rows: the statistics' totals.
    """
    book = _Book(t("sheet.monthly.title"))
    taken: set[str] = set()
    months = data.months or ((data.period_label, ()),)
    for index, (label, rows) in enumerate(months, start=1):
        _monthly_sheet(book, _sheet_title(label, taken, index), data, label, rows)
    return book.save()


def summary_workbook(data: SummarySheetData) -> bytes:
    """The 6-month or yearly summary (``data.period_label`` says which): one row per child
    area, in the one order of areas (``reports.figures.name_key``), then the total row as
    given in ``data.total``.

    The change since the start of the year is ``poor_rate − start_poor_rate`` in percentage
    points; the change against the baseline is ``(poor + near-poor − baseline) ÷ baseline``
    in percent. Either is empty when a figure it needs is missing. The last column says
    where figures of villages that have not filed are carried from earlier reports
    («chưa gửi — dùng số liệu tháng 9/2026») and how many villages have none to count.
    """
    title = t("sheet.summary.title")
    book = _Book(title)
    sheet = _Sheet(book, _sheet_title(t("sheet.summary.sheet"), set(), 1),
                   _summary_columns(data.baseline_label), [
        title,
        t("sheet.area", area=data.area),
        t("sheet.period", period=data.period_label),
        _as_of(data.as_of),
        t("sheet.summary.note", baseline=data.baseline_label),
    ], freeze="B", area=data.area, as_of=data.as_of)
    for child in sorted(data.rows, key=lambda r: name_key(r.name)):
        sheet.write(_summary_values(child, child.name))
    # A village's summary is its own row alone, under its name.
    name = t("sheet.total") if data.rows else data.total.name
    sheet.write(_summary_values(data.total, name), _TOTAL)
    sheet.close()
    return book.save()


def households_workbook(data: HouseholdSheetData) -> bytes:
    """The list of households by commune and village (``reports.figures.area_key``), in the
    order given within a village, numbered, with a count row."""
    columns = [
        _Column(t("sheet.col.no"), 5, COUNT, "center"),
        _Column(t("sheet.col.commune"), 18, wrap=True),
        _Column(t("sheet.col.village"), 18, wrap=True),
        _Column(t("sheet.col.code"), 12),
        _Column(t("sheet.col.head_name"), 24, wrap=True),
        _Column(t("sheet.households.col.status"), 15, wrap=True),
        _Column(t("sheet.households.col.status_since"), 11, DAY, "center"),
        _Column(t("sheet.households.col.ethnic_minority"), 10, COUNT, "center"),
        _Column(t("sheet.households.col.no_work_capacity"), 12, COUNT, "center"),
        _Column(t("sheet.households.col.has_merit"), 10, COUNT, "center"),
        _Column(t("sheet.households.col.has_loan"), 10, COUNT, "center"),
    ]
    households = sorted(data.households, key=lambda h: area_key(h.commune, h.village))
    rows = ([number, h.commune, h.village, h.code, h.head_name, h.status, h.status_since,
             *(_mark(flag) for flag in (h.ethnic_minority, h.no_work_capacity, h.has_merit,
                                        h.has_loan))]
            for number, h in enumerate(households, start=1))
    count = t("sheet.households.count", count=format_count(len(households)))
    total = [None, t("sheet.total"), count, None, None, None, None,
             sum(h.ethnic_minority for h in households),
             sum(h.no_work_capacity for h in households),
             sum(h.has_merit for h in households),
             sum(h.has_loan for h in households)]
    return _list_workbook(t("sheet.households.sheet"), t("sheet.households.title"), data.area,
                          data.as_of, columns, rows, total)


def registrations_workbook(data: RegistrationSheetData) -> bytes:
    """The list of voluntary exit registrations by commune and village
    (``reports.figures.area_key``), in the order given within a village, with a count row."""
    columns = [
        _Column(t("sheet.col.no"), 5, COUNT, "center"),
        _Column(t("sheet.col.commune"), 16, wrap=True),
        _Column(t("sheet.col.village"), 16, wrap=True),
        _Column(t("sheet.col.code"), 12),
        _Column(t("sheet.col.head_name"), 22, wrap=True),
        _Column(t("sheet.registrations.col.target_year"), 11, "0", "center"),
        _Column(t("sheet.registrations.col.plan"), 34, wrap=True),
        _Column(t("sheet.registrations.col.support_asked"), 26, wrap=True),
        _Column(t("sheet.registrations.col.registered_on"), 11, DAY, "center"),
        _Column(t("sheet.registrations.col.state"), 16, wrap=True),
        _Column(t("sheet.registrations.col.state_on"), 11, DAY, "center"),
    ]
    registrations = sorted(data.registrations, key=lambda r: area_key(r.commune, r.village))
    rows = ([number, r.commune, r.village, r.code, r.head_name, r.target_year, r.plan,
             r.support_asked, r.registered_on, r.state, r.state_on]
            for number, r in enumerate(registrations, start=1))
    count = t("sheet.registrations.count", count=format_count(len(registrations)))
    return _list_workbook(t("sheet.registrations.sheet"), t("sheet.registrations.title"),
                          data.area, data.as_of, columns, rows,
                          [None, t("sheet.total"), count] + [None] * 8)


def _list_workbook(sheet: str, title: str, area: str, as_of: date,
                   columns: Sequence[_Column], rows: Iterable[Sequence[Any]],
                   total: Sequence[Any]) -> bytes:
    """A list of people's households (personal data, DOMAIN §9): title block, header, one
    row each, the count row, print setup."""
    book = _Book(title)
    out = _Sheet(book, _sheet_title(sheet, set(), 1), columns,
                 [title, t("sheet.area", area=area), _as_of(as_of), t("sheet.personal_data")],
                 freeze="A", area=area, as_of=as_of)
    for values in rows:
        out.write(values)
    out.write(total, _TOTAL)
    out.close()
    return book.save()


def file_name(kind: str, area: str, period: str) -> str:
    """A safe ASCII file name: ``file_name("monthly", "Xã Mường Tè", "2026-10")`` is
    ``so-lieu-thang_xa-muong-te_2026-10.xlsx``.

    ``kind`` is one of ``FILE_KINDS``; diacritics are dropped and everything but letters and
    digits becomes a hyphen, so the name is safe on every phone and file system.
    """
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown spreadsheet kind {kind!r}; one of {sorted(FILE_KINDS)}")
    parts = (_slug(t(FILE_KINDS[kind])), _slug(area), _slug(period))
    return "_".join(part for part in parts if part) + ".xlsx"


# ---- the monthly sheet ------------------------------------------------------------------------

_FILED_AT_COLUMN = 15  # "Ngày gửi", where "Chưa gửi" stands out
_MONTHLY_FIGURES = ("total", "poor", "near_poor", "exited", "newly_poor", "fallen_back",
                    "em_poor", "loans", "support_vnd")


def _monthly_columns() -> list[_Column]:
    return [
        _Column(t("sheet.col.commune"), 18, wrap=True),
        _Column(t("sheet.col.village"), 18, wrap=True),
        _Column(t("sheet.col.total"), 10, COUNT, "right"),
        _Column(t("sheet.col.poor"), 10, COUNT, "right"),
        _Column(t("sheet.col.poor_rate"), 10, RATE, "right"),
        _Column(t("sheet.col.near_poor"), 10, COUNT, "right"),
        _Column(t("sheet.col.near_poor_rate"), 10, RATE, "right"),
        _Column(t("sheet.monthly.col.exited"), 9, COUNT, "right"),
        _Column(t("sheet.monthly.col.newly_poor"), 9, COUNT, "right"),
        _Column(t("sheet.monthly.col.fallen_back"), 9, COUNT, "right"),
        _Column(t("sheet.monthly.col.em_poor"), 9, COUNT, "right"),
        _Column(t("sheet.monthly.col.loans"), 9, COUNT, "right"),
        _Column(t("sheet.col.support"), 14, MONEY, "right"),
        _Column(t("sheet.monthly.col.note"), 30, wrap=True),
        _Column(t("sheet.monthly.col.filed_at"), 16, MOMENT, "center"),
        _Column(t("sheet.monthly.col.filed_by"), 18, wrap=True),
        _Column(t("sheet.monthly.col.on_time"), 9, COUNT, "center"),
    ]


# How the cells of a village that has not filed look, column by column: its carried figures
# (columns 3 to 14) and the filing column, or the filing column alone.
_CARRIED_LOOKS = tuple(_CARRIED if 3 <= c < _FILED_AT_COLUMN else _MISSING
                       if c == _FILED_AT_COLUMN else _PLAIN for c in range(1, 18))
_MISSING_LOOKS = tuple(_MISSING if c == _FILED_AT_COLUMN else _PLAIN for c in range(1, 18))


def _monthly_sheet(book: _Book, sheet_title: str, data: MonthlySheetData, label: str,
                   rows: Sequence[VillageMonthRow]) -> None:
    columns = _monthly_columns()
    filed = [r for r in rows if r.filed_at is not None]
    on_time = sum(1 for r in filed if r.on_time)
    carried = sum(1 for r in rows if r.filed_at is None and r.carried_from is not None)
    note = t("sheet.monthly.filed", filed=len(filed), villages=len(rows), on_time=on_time)
    if carried:
        note += " " + t("sheet.monthly.carried_note", n=carried)
    if label == data.period_label:
        period = t("sheet.period", period=label)
    else:
        period = t("sheet.monthly.period_month", month=label, period=data.period_label)
    title = t("sheet.monthly.title")
    sheet = _Sheet(book, sheet_title, columns, [
        title,
        t("sheet.area", area=data.area),
        period,
        _as_of(data.as_of),
        note,
    ], freeze="C", area=data.area, as_of=data.as_of)
    groups: dict[str, list[VillageMonthRow]] = {}
    for village in sorted(rows, key=lambda r: area_key(r.commune, r.village)):
        groups.setdefault(village.commune, []).append(village)
    for commune, villages in groups.items():
        for village in villages:
            looks = (_PLAIN if village.filed_at is not None else _CARRIED_LOOKS
                     if village.carried_from is not None else _MISSING_LOOKS)
            sheet.write(_village_values(village), looks)
        if len(groups) > 1:
            subtotal = t("sheet.monthly.subtotal", commune=commune)
            sheet.write(_monthly_total_values(subtotal, villages), _TOTAL)
    sheet.write(_monthly_total_values(t("sheet.total"), rows), _TOTAL)
    sheet.close()


def _village_values(v: VillageMonthRow) -> list[Any]:
    if v.filed_at is None:
        filed_at: Any = t("sheet.monthly.not_filed")
        if v.carried_from is not None:
            filed_at = t("sheet.monthly.carried", month=month_label(v.carried_from))
        on_time = None
    else:
        filed_at = _moment(v.filed_at)
        if v.on_time is None:
            on_time = None
        else:
            on_time = _mark(True) if v.on_time else t("sheet.monthly.late")
    return [
        v.commune, v.village,
        v.total, v.poor, _round(rate(v.poor, v.total)),
        v.near_poor, _round(rate(v.near_poor, v.total)),
        v.exited, v.newly_poor, v.fallen_back, v.em_poor, v.loans, v.support_vnd,
        v.note, filed_at, v.filed_by, on_time,
    ]


def _monthly_total_values(label: str, rows: Sequence[VillageMonthRow]) -> list[Any]:
    """A (sub)total row: sums of the villages' figures, rates from the sums."""
    sums = {name: _sum(getattr(r, name) for r in rows) for name in _MONTHLY_FIGURES}
    filed = [r for r in rows if r.filed_at is not None]
    return [
        label, t("sheet.monthly.filed_count", filed=len(filed), villages=len(rows)),
        sums["total"], sums["poor"], _round(rate(sums["poor"], sums["total"])),
        sums["near_poor"], _round(rate(sums["near_poor"], sums["total"])),
        sums["exited"], sums["newly_poor"], sums["fallen_back"], sums["em_poor"],
        sums["loans"], sums["support_vnd"],
        None, None, None, sum(1 for r in filed if r.on_time),
    ]


# ---- the summary sheet ------------------------------------------------------------------------


def _summary_columns(baseline_label: str) -> list[_Column]:
    return [
        _Column(t("sheet.summary.col.area"), 24, wrap=True),
        _Column(t("sheet.col.total"), 11, COUNT, "right"),
        _Column(t("sheet.col.poor"), 10, COUNT, "right"),
        _Column(t("sheet.col.poor_rate"), 10, RATE, "right"),
        _Column(t("sheet.col.near_poor"), 10, COUNT, "right"),
        _Column(t("sheet.col.near_poor_rate"), 10, RATE, "right"),
        _Column(t("sheet.summary.col.start_poor_rate"), 11, RATE, "right"),
        _Column(t("sheet.summary.col.change_since_start"), 12, CHANGE, "right"),
        _Column(t("sheet.summary.col.baseline", baseline=baseline_label), 14, COUNT, "right"),
        _Column(t("sheet.summary.col.change_since_baseline"), 12, CHANGE, "right"),
        _Column(t("sheet.summary.col.villages"), 8, COUNT, "right"),
        _Column(t("sheet.summary.col.reports_filed"), 9, COUNT, "right"),
        _Column(t("sheet.summary.col.reports_on_time"), 9, COUNT, "right"),
        _Column(t("sheet.summary.col.registered"), 11, COUNT, "right"),
        _Column(t("sheet.summary.col.recognised"), 10, COUNT, "right"),
        _Column(t("sheet.col.support"), 15, MONEY, "right"),
        _Column(t("sheet.summary.col.note"), 30, wrap=True),
    ]


def _summary_values(r: SummaryRow, name: str) -> list[Any]:
    since_start = None
    if r.poor_rate is not None and r.start_poor_rate is not None:
        since_start = r.poor_rate - r.start_poor_rate
    since_baseline = None
    if r.baseline_poor_and_near and r.poor is not None and r.near_poor is not None:
        since_baseline = rate(r.poor + r.near_poor - r.baseline_poor_and_near,
                              r.baseline_poor_and_near)
    return [
        name, r.total, r.poor, _round(r.poor_rate), r.near_poor, _round(r.near_poor_rate),
        _round(r.start_poor_rate), _round(since_start), r.baseline_poor_and_near,
        _round(since_baseline), r.villages, r.reports_filed, r.reports_on_time, r.registered,
        r.recognised, r.support_vnd, _summary_note(r.carried, r.uncounted, r.villages),
    ]


def _summary_note(carried: Carried | None, uncounted: int, villages: int) -> str | None:
    """Where a row's figures come from earlier reports, and villages not counted at all."""
    notes = [carried.text()] if carried is not None else []
    if uncounted:
        notes.append(t("sheet.summary.none_counted") if uncounted == villages
                     else t("sheet.summary.uncounted", n=uncounted))
    return "; ".join(notes) or None


# ---- shared building blocks -------------------------------------------------------------------

class _Book:
    """A write-only workbook and its named styles (one per column and look, by name)."""

    def __init__(self, title: str):
        self.wb = Workbook(write_only=True)
        self.wb.properties.title = title
        self.styles: dict[tuple[_Column, str], str] = {}

    def style(self, column: _Column, look: str) -> str:
        """The name of the named style of ``column``'s cells with ``look``, registered the
        first time it is asked for."""
        name = self.styles.get((column, look))
        if name is None:
            key, font, fill = _LOOKS[look]
            name = base = t("sheet.style", column=" ".join(column.header.split()), look=t(key))
            number = 1
            while name in self.wb.named_styles:  # the same header with another format
                number += 1
                name = f"{base} ({number})"
            style = NamedStyle(name=name, border=_BORDER,
                               number_format=column.number_format or "General",
                               alignment=Alignment(horizontal=column.align, vertical="top",
                                                   wrap_text=column.wrap))
            if font is not None:
                style.font = font
            if fill is not None:
                style.fill = fill
            self.wb.add_named_style(style)
            self.styles[(column, look)] = name
        return name

    def save(self) -> bytes:
        buffer = BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


class _Sheet:
    """One worksheet, written from the top down in write-only mode: the title block, a blank
    row, the header row, then ``write`` one row at a time; ``close`` adds the print setup.

    Everything a write-only sheet writes before its rows (column widths, frozen panes, the
    fit-to-page flag) is set here, before the first row; a data cell gets its column's named
    style for its look (``_Book.style``).
    """

    def __init__(self, book: _Book, title: str, columns: Sequence[_Column],
                 lines: Sequence[str], *, freeze: str, area: str, as_of: date):
        self.book, self.columns = book, list(columns)
        self.ws = ws = book.wb.create_sheet(title)
        self.report, self.area, self.as_of = lines[0], area, as_of
        self.header_row = len(lines) + 2
        self.row = 0
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = f"{freeze}{self.header_row + 1}"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.row_dimensions[self.header_row].height = _HEADER_HEIGHT
        for number, line in enumerate(lines, start=1):
            self._append([self._text(line, _TITLE_FONT if number == 1 else
                                     _NOTE_FONT if number == len(lines) else _BOLD)])
        self._append([])
        self._append([self._header(column) for column in self.columns])

    def _append(self, cells: list) -> None:
        self.ws.append(cells)
        self.row += 1

    def _text(self, text: str, font: Font) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        _set_text(cell, text)
        cell.font = font
        return cell

    def _header(self, column: _Column) -> WriteOnlyCell:
        cell = self._text(column.header, _BOLD)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        return cell

    def write(self, values: Sequence[Any], looks: str | Sequence[str] = _PLAIN) -> None:
        """One data row (``looks``: of every cell, or column by column); ``None`` leaves a
        cell empty but bordered."""
        assert len(values) == len(self.columns), (len(values), len(self.columns))
        if isinstance(looks, str):
            looks = (looks,) * len(self.columns)
        cells = []
        for column, value, look in zip(self.columns, values, looks, strict=True):
            cell = WriteOnlyCell(self.ws)
            if isinstance(value, str):
                _set_text(cell, value)
            elif value is not None:
                cell.value = value
            cell.style = self.book.style(column, look)
            cells.append(cell)
        self._append(cells)

    def close(self) -> None:
        """Frozen panes below the header, and the print setup."""
        ws = self.ws
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"
        ws.print_area = f"A1:{get_column_letter(len(self.columns))}{self.row}"
        setup = ws.page_setup
        setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
        setup.paperSize = Worksheet.PAPERSIZE_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages down as it takes
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = 0.5
        ws.page_margins.bottom = 0.7
        ws.page_margins.footer = 0.3
        ws.oddFooter.left.text = _footer_text(t("sheet.footer.report", title=self.report,
                                                area=self.area))
        ws.oddFooter.left.size = 8
        ws.oddFooter.center.text = t("sheet.footer.page")  # "&P"/"&N": page number and count
        ws.oddFooter.center.size = 8
        ws.oddFooter.right.text = _footer_text(_as_of(self.as_of))
        ws.oddFooter.right.size = 8


# ---- small helpers ----------------------------------------------------------------------------


def _set_text(cell: Any, text: str) -> None:
    """Write ``text`` as text: never a formula, no characters xlsx forbids, not too long."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_TEXT]
    if not text:
        return
    cell.value = text
    cell.data_type = "s"  # openpyxl would make "=…" a formula


def _sheet_title(label: str, taken: set[str], index: int) -> str:
    """A valid sheet title from ``label``, unique (case-insensitively) among ``taken``."""
    title = _TITLE_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", label))
    title = " ".join(title.split()).strip("'")[:_MAX_TITLE].strip(" '") or str(index)
    candidate, n = title, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = title[:_MAX_TITLE - len(suffix)].rstrip(" '") + suffix
    taken.add(candidate.casefold())
    return candidate


def _as_of(day: date) -> str:
    return t("sheet.as_of", date=day.strftime("%d/%m/%Y"))


def _footer_text(text: str) -> str:
    """Footer text with "&" escaped, short enough for Excel's 255-character footer."""
    return text[:100].replace("&", "&&")


def _moment(text: str) -> datetime | str:
    """``"05/11/2026 09:12"`` as a datetime (sortable in Excel); other text stays text."""
    try:
        return datetime.strptime(text, _FILED_AT)
    except ValueError:
        return text


def _mark(flag: bool) -> str | None:
    return t("sheet.yes") if flag else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _sum(values: Iterable[int | None]) -> int | None:
    """The sum of the values present; None when none is."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text))[:60].strip("-")

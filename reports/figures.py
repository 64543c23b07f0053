"""What statistics hand to charts and spreadsheets: plain, frozen, hashable data.

``reports.stats`` computes these from the database; ``reports.charts`` turns them into PNG
images and ``reports.sheets`` into xlsx workbooks. Both are pure (bytes from data), so a
chart can be rendered in another process and cached by its data: the same data is the same
picture. Rates are percentages (``11.24`` means 11.24 %), ``None`` where there is no data.
Months are ``YYYY-MM`` keys; labels shown to people come from the message catalogue.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from common.catalogue import t
from common.text import fold

_NUMBER = re.compile(r"(\d+)")


@lru_cache(maxsize=65536)  # village and commune names repeat row after row
def name_key(name: str) -> tuple:
    """The sort key of an area's name, the one order of every list of areas (sheets, and the
    ties of charts): alphabetical the Vietnamese way — diacritics and case folded for sorting
    («Bản Đông» with «Bản Dồn», «Bản Ẳng» with «Bản Ang»), shown as written — with numbers in
    their order («Tổ dân phố 9» before «Tổ dân phố 10»); names equal when folded go
    unmarked letters first («Bản Ang», then «Bản Ẳng»), so the order never depends on the
    order the names came in."""
    parts = _NUMBER.split(fold(name))
    shown = unicodedata.normalize("NFC", name)
    return (tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), shown.casefold(),
            shown)


def area_key(commune: str, village: str) -> tuple:
    """The order of villages listed with their commune: by commune, then by village."""
    return name_key(commune), name_key(village)


def rate(part: int | None, whole: int | None) -> float | None:
    """``part`` of ``whole`` in percent, or None when there is nothing to divide by."""
    if part is None or not whole:
        return None
    return 100.0 * part / whole


@dataclass(frozen=True, slots=True)
class Figures:
    """An area's household counts at one time (sums over its villages)."""

    total: int
    poor: int
    near_poor: int
    em_poor: int = 0
    loans: int = 0

    @property
    def poor_rate(self) -> float | None:
        return rate(self.poor, self.total)

    @property
    def near_poor_rate(self) -> float | None:
        return rate(self.near_poor, self.total)

    @property
    def poor_and_near(self) -> int:
        return self.poor + self.near_poor


def month_label(key: str) -> str:
    """``"2026-09"`` -> ``"9/2026"`` (messages put "tháng" before it)."""
    year, month = key.split("-")
    return f"{int(month)}/{year}"


@dataclass(frozen=True, slots=True)
class Carried:
    """Villages that count for ``month`` with an earlier report: they have not filed
    ``month`` (yet), and their latest report of at most ``stats.carry_months`` before stands
    in for it. Everything that shows such a figure says so, in the words of :meth:`text`."""

    month: str  # YYYY-MM
    villages: int  # villages counted with an earlier report (at least 1)
    counted: int  # villages counted in all
    oldest: str  # the earliest report counted in their place (YYYY-MM)
    latest: str  # the latest one
    village: bool = False  # the figures are one village's

    def text(self) -> str:
        """«chưa gửi — dùng số liệu tháng 9/2026» for a village; for an area, how many of its
        villages and from which months."""
        if self.village:
            return t("stats.carried.one", month=month_label(self.oldest))
        if self.oldest == self.latest:
            return t("stats.carried.many", n=self.villages, month=month_label(self.month),
                     source=month_label(self.oldest))
        return t("stats.carried.many_months", n=self.villages, month=month_label(self.month),
                 oldest=month_label(self.oldest), latest=month_label(self.latest))


# ---- charts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendData:
    """Poverty rate by month, with the target path (the rate the target would give)."""

    area: str
    as_of: date
    months: tuple[str, ...]
    rates: tuple[float | None, ...]  # the area's poverty rate each month
    target: tuple[float | None, ...]  # the target path each month
    target_points: float  # the target, in points per year
    carried: Carried | None = None  # the last month's villages counted with older reports


@dataclass(frozen=True, slots=True)
class ChildReduction:
    name: str
    reduction: float | None  # points the poverty rate fell this year (negative: it rose)
    target: float  # points it should fall in a year
    carried: Carried | None = None  # its figures of now include older reports


@dataclass(frozen=True, slots=True)
class ReductionData:
    """This year's reduction of the poverty rate by child area, against each one's target."""

    area: str
    as_of: date
    year: int
    children: tuple[ChildReduction, ...]
    carried: Carried | None = None  # the area's figures of now include older reports


@dataclass(frozen=True, slots=True)
class BaselineData:
    """Poor + near-poor households by month against the baseline, with the −50 % line."""

    area: str
    as_of: date
    baseline_label: str  # "cuối năm 2021"
    baseline: int
    months: tuple[str, ...]
    counts: tuple[int | None, ...]
    carried: Carried | None = None  # the last month's villages counted with older reports


@dataclass(frozen=True, slots=True)
class ChildCompleteness:
    name: str
    on_time: int
    late: int
    missing: int


@dataclass(frozen=True, slots=True)
class CompletenessData:
    """Reports of one period by child area: filed on time, filed late, not filed."""

    area: str
    as_of: date
    period_label: str  # "tháng 10/2026"
    children: tuple[ChildCompleteness, ...]


@dataclass(frozen=True, slots=True)
class FunnelData:
    """Voluntary exit registrations by state (DOMAIN §7), in life-cycle order."""

    area: str
    as_of: date
    registered: int  # all registrations ever made in the period
    under_review: int
    recognised: int
    not_yet: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class RankingRow:
    name: str
    reduction: float | None  # points this year
    rate: float | None  # poverty rate now
    carried: Carried | None = None  # its figures of now include older reports


@dataclass(frozen=True, slots=True)
class RankingData:
    """The emulation leaderboard: child areas by this year's reduction, best first."""

    area: str
    as_of: date
    year: int
    rows: tuple[RankingRow, ...]
    carried: Carried | None = None  # the area's figures of now include older reports


# ---- spreadsheets -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VillageMonthRow:
    """One village's figures of a month as they count: its own report (``filed_at``), or,
    when it has not filed, its latest earlier report (``carried_from``, the figures only: the
    month's flows, support and note stay empty), or nothing (every figure None)."""

    commune: str
    village: str
    total: int | None
    poor: int | None
    near_poor: int | None
    exited: int | None
    newly_poor: int | None
    fallen_back: int | None
    em_poor: int | None
    loans: int | None
    support_vnd: int | None
    note: str
    filed_at: str | None  # "05/11/2026 09:12", local time
    filed_by: str | None
    on_time: bool | None
    carried_from: str | None = None  # YYYY-MM of the earlier report counted instead


@dataclass(frozen=True, slots=True)
class MonthlySheetData:
    """The monthly figures of all villages of an area for one or more months."""

    area: str
    as_of: date
    period_label: str
    months: tuple[tuple[str, tuple[VillageMonthRow, ...]], ...]  # (month label, rows)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One child area (or the total) in the 6-month or yearly summary (figures None: no
    village of it has a report recent enough to count)."""

    name: str
    total: int | None
    poor: int | None
    near_poor: int | None
    poor_rate: float | None
    near_poor_rate: float | None
    start_poor_rate: float | None  # at the start of the year
    baseline_poor_and_near: int | None
    villages: int
    reports_filed: int
    reports_on_time: int
    registered: int
    recognised: int
    support_vnd: int
    carried: Carried | None = None  # villages counted with an earlier report
    uncounted: int = 0  # villages without any report recent enough to count


@dataclass(frozen=True, slots=True)
class SummarySheetData:
    area: str
    as_of: date
    period_label: str
    baseline_label: str
    rows: tuple[SummaryRow, ...]
    total: SummaryRow


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    commune: str
    village: str
    code: str
    head_name: str
    status: str  # the catalogue's label: "Hộ nghèo", …
    status_since: date
    ethnic_minority: bool
    no_work_capacity: bool
    has_merit: bool
    has_loan: bool


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    commune: str
    village: str
    code: str
    head_name: str
    target_year: int
    plan: str  # the livelihood plan, as shown to people
    support_asked: str
    registered_on: date
    state: str  # the catalogue's label: "Đã đăng ký", …
    state_on: date


@dataclass(frozen=True, slots=True)
class HouseholdSheetData:
    area: str
    as_of: date
    households: tuple[HouseholdRow, ...]


@dataclass(frozen=True, slots=True)
class RegistrationSheetData:
    area: str
    as_of: date
    registrations: tuple[RegistrationRow, ...]

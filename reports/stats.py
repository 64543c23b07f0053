"""Officers' statistics: an area's figures at a time, its trend, its child areas, award
candidates, and the data of charts and spreadsheets (DOMAIN §3, §5, §8).

Every figure is a sum over the villages under the area of their latest monthly report at or
before the month asked about (a village that has not reported that month counts with its last
report of at most ``stats.carry_months`` before). Rates are poor ÷ all households. "Start of
the year" is the end of the year before (December); the baseline is the end of the year before
``stats.baseline_year`` (default: the first year of the poverty standard in force, 2022, so the
end of 2021), or its first month with data when the year before has none.

All reads go through ``Database.read()``: statistics never hold up a dialog's writes. Charts
render in ``reports.charts.ChartRenderer`` (a process pool), cached by their data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from common.catalogue import t
from common.config import AreaTarget, Config
from reports import charts, sheets
from reports.awards import (
    HALVED,
    POINTS,
    Candidate,
    Target,
    halved_rule,
    points_rule,
    target_for,
)
from reports.calendar import calendars
from reports.configured import configured_area, governing, override_paths
from reports.figures import (
    BaselineData,
    Carried,
    ChildCompleteness,
    ChildReduction,
    CompletenessData,
    Figures,
    FunnelData,
    HouseholdRow,
    HouseholdSheetData,
    MonthlySheetData,
    RankingData,
    RankingRow,
    ReductionData,
    RegistrationRow,
    RegistrationSheetData,
    SummaryRow,
    SummarySheetData,
    TrendData,
    VillageMonthRow,
    area_key,
    name_key,
)
from reports.periods import Month, Period, default_month
from reports.poverty import NoStandardError, standard_for, status_label
from storage import areas as area_store
from storage import effective
from storage import stats as store
from storage.areas import Area
from storage.db import Database
from storage.households import registrations as registrations_of
from storage.reports import MONTHLY_FORM
from storage.stats import Group

log = logging.getLogger(__name__)

STATS_CONCURRENCY = 1  # questions computed at once (each takes milliseconds); others queue
WRITES_SETTLE_S = 0.2  # a question waits at most this long for the dialogs' writes to settle
CHART_KINDS = ("trend", "reduction", "baseline", "completeness", "funnel", "ranking")
SHEET_KINDS = ("monthly", "summary", "households", "registrations")
BY_CHILD_AREA = ("reduction", "completeness", "ranking")  # charts that compare child areas
CARRIED_NAMES = 5  # villages named in the summary's line of those not yet filed
ROWS_PER_TURN = 1000  # rows a spreadsheet's data builds before other work gets a turn
VILLAGES_PER_READ = 10  # villages whose households one read of the household list fetches
REGISTRATION_STATE_KEYS = {
    "registered": "registration.state.registered",
    "under_review": "registration.state.under_review",
    "recognised": "registration.state.recognised",
    "not_yet": "registration.state.not_yet",
    "withdrawn": "registration.state.withdrawn",
}
PLAN_KEYS = {
    "crops": "household.plan.crops", "livestock": "household.plan.livestock",
    "wage_work": "household.plan.wage_work", "business": "household.plan.business",
    "craft": "household.plan.craft", "other": "household.plan.other",
}
SUPPORT_KEYS = {
    "loan": "household.support.loan", "breeds": "household.support.breeds",
    "training": "household.support.training", "job": "household.support.job",
    "housing": "household.support.housing", "other": "household.support.other",
}


def _index(month: Month) -> int:
    return month.year * 12 + month.month - 1


def _month_of(index: int) -> Month:
    return Month(index // 12, index % 12 + 1)


@dataclass
class Reports:
    """One month's monthly reports of a set of villages."""

    on_time: int = 0
    late: int = 0
    missing: int = 0

    @property
    def filed(self) -> int:
        return self.on_time + self.late


@dataclass
class Summary:
    """What ``/thongke`` says about an area and a period."""

    area: Area
    period: Period
    as_of: Month  # the month the figures are of
    villages: int
    reported_this_month: int  # villages whose own report of ``as_of`` is in
    now: Figures
    start: Figures | None  # the end of the year before
    baseline: Figures | None
    baseline_label: str
    reports: Reports
    registered: int
    recognised: int
    support_vnd: int
    target: float  # points a year, the ethnic-minority rule applied
    children: list[tuple[Area, Figures | None]] = field(default_factory=list)
    carried: Carried | None = None  # villages counted with an earlier report than as_of's
    carried_villages: list[tuple[str, str]] = field(default_factory=list)  # (name, YYYY-MM)
    uncounted: int = 0  # villages without any report recent enough to count
    label: str = ""  # the period as shown ("năm 2026 (đến tháng 11/2026)")
    single_village: bool = False  # the area is one village

    @property
    def reduction_this_year(self) -> float | None:
        if self.start is None or self.start.poor_rate is None or self.now.poor_rate is None:
            return None
        return self.start.poor_rate - self.now.poor_rate

    @property
    def baseline_change(self) -> float | None:
        """Poor + near-poor against the baseline, in percent (−38.0: down 38 %)."""
        if self.baseline is None or not self.baseline.poor_and_near:
            return None
        base = self.baseline.poor_and_near
        return 100.0 * (self.now.poor_and_near - base) / base


@dataclass(frozen=True, slots=True)
class Cell:
    """The sums of one group of villages (or of the whole area) for one month."""

    figures: Figures
    counted: int  # villages counted
    reported: int  # of those, with their own report of the month
    on_time: int  # of those, first filed before the due date
    support: int  # mobilised that month (their own reports)
    carried_oldest: str | None  # the oldest earlier report counted (None: none)
    carried_latest: str | None


def _combined(cells: list[Cell]) -> Cell:
    figures = Figures(*(sum(getattr(c.figures, n) for c in cells) for n in
                        ("total", "poor", "near_poor", "em_poor", "loans")))
    oldest = [c.carried_oldest for c in cells if c.carried_oldest]
    latest = [c.carried_latest for c in cells if c.carried_latest]
    return Cell(figures, sum(c.counted for c in cells), sum(c.reported for c in cells),
                sum(c.on_time for c in cells), sum(c.support for c in cells),
                min(oldest) if oldest else None, max(latest) if latest else None)


class Question:
    """One question about an area: its villages, child areas, and figures by month (cached).

    Figures are summed by SQLite by group (``storage.stats.sums``): one group per child area
    that has villages, or the area itself when it has none (a village). One row per group and
    month reaches Python, not one per village; the whole area is the sum of its groups. Every
    answer — the chat summary, each chart, each spreadsheet — reads its figures from here, so
    they cannot disagree."""

    def __init__(self, stats: StatsService, conn, area: Area, counts: dict[int, int],
                 children: list[Area]):
        self.stats = stats
        self.conn = conn
        self.area = area
        self.children = children
        # The groups summed: the child areas, or the area itself (its key stands for None).
        self.groups: list[Group] = ([(c.id, c.path) for c in children] if children
                                    else [(area.id, area.path)] if counts else [])
        self._counts = counts  # villages by group key
        self.villages: list[Area] = []  # loaded by load_villages() when a list is needed
        self.child_of: dict[int, Area] = {}
        self.villages_of: dict[int, list[Area]] = {c.id: [] for c in children}
        self._sums: dict[Month, dict[int | None, Cell]] = {}
        self._on_time: dict[Month, dict[int | None, tuple[int, int]]] = {}
        self._registrations: dict[int | None, dict[str, int]] | None = None

    @property
    def single_village(self) -> bool:
        """The area is a village: its own months, no child rows."""
        return self.area.level == self.stats.config.report_level

    def _key(self, child: Area | None) -> int | None:
        return None if child is None or child.id == self.area.id else child.id

    def count(self, child: Area | None = None) -> int:
        """Villages under the area (or under one child area)."""
        if self._key(child) is None:
            return sum(self._counts.values())
        return self._counts.get(child.id, 0)

    async def load_villages(self) -> list[Area]:
        """The villages themselves, each with its child area (spreadsheets, due dates)."""
        if not self.villages and self.count():
            self.villages = await area_store.subtree(self.conn, self.area,
                                                     level=self.stats.config.report_level)
            depth = len(self.area.path.strip("/").split("/"))
            by_id = {c.id: c for c in self.children}
            for village in self.villages:
                parts = village.path.strip("/").split("/")
                if len(parts) > depth and int(parts[depth]) in by_id:
                    self.child_of[village.id] = by_id[int(parts[depth])]
                    self.villages_of[int(parts[depth])].append(village)
        return self.villages

    async def load(self, months: Iterable[Month]) -> None:
        """Sum the figures of these months (those not yet summed) in one query."""
        wanted = sorted({m for m in months if m not in self._sums})
        if not wanted:
            return
        rows = await store.sums(self.conn, self.groups,
                                [(m.key, self.stats.cutoff(m)) for m in wanted])
        for month in wanted:
            self._sums[month] = {}
        for r in rows:
            key = None if r.child == self.area.id else r.child
            self._sums[Month.parse_key(r.month)][key] = Cell(
                Figures(r.total, r.poor, r.near_poor, r.em_poor, r.loans), r.villages,
                r.reported, r.on_time, r.support_vnd, r.carried_oldest, r.carried_latest)
        for month in wanted:  # the whole area: the sum of its child areas
            by_child = self._sums[month]
            parts = [v for k, v in by_child.items() if k is not None]
            if parts and None not in by_child:
                by_child[None] = _combined(parts)

    async def cell(self, month: Month, child: Area | None = None) -> Cell | None:
        await self.load([month])
        return self._sums[month].get(self._key(child))

    async def at(self, month: Month, child: Area | None = None) -> Figures | None:
        """The area's figures as of ``month`` (of one child area when given)."""
        found = await self.cell(month, child)
        return found.figures if found else None

    async def counted(self, month: Month, child: Area | None = None) -> int:
        """Villages counted for ``month`` (own or earlier report)."""
        found = await self.cell(month, child)
        return found.counted if found else 0

    async def carried(self, month: Month, child: Area | None = None) -> Carried | None:
        """The villages counted for ``month`` with an earlier report (None: none)."""
        found = await self.cell(month, child)
        if found is None or found.carried_oldest is None:
            return None
        level = self.stats.config.report_level
        village = (self.area if child is None else child).level == level
        return Carried(month.key, found.counted - found.reported, found.counted,
                       found.carried_oldest, found.carried_latest or found.carried_oldest,
                       village)

    async def reported(self, month: Month) -> int:
        """Villages whose own report of ``month`` is in."""
        found = await self.cell(month)
        return found.reported if found else 0

    async def support(self, months: Iterable[Month], child: Area | None = None) -> int:
        """Support mobilised over ``months`` (the villages' own reports of them)."""
        months = list(months)
        await self.load(months)
        total = 0
        for month in months:
            found = await self.cell(month, child)
            total += found.support if found else 0
        return total

    async def series(self, months: list[Month]) -> list[Figures | None]:
        """The area's figures each month of ``months``."""
        await self.load(months)
        return [await self.at(m) for m in months]

    async def filed(self, month: Month, child: Area | None = None) -> tuple[int, int]:
        """(monthly reports of ``month`` filed, of which on time) of the area or a child."""
        if not self.stats.config.calendar.overrides:  # one due date: summed with the figures
            found = await self.cell(month, child)
            return (found.reported, found.on_time) if found else (0, 0)
        if month not in self._on_time:
            self._on_time[month] = await self.stats._filed_with_overrides(self, month)
        return self._on_time[month].get(self._key(child), (0, 0))

    async def registrations(self, as_of: Month, child: Area | None = None) -> dict[str, int]:
        """Exit registrations made in ``as_of``'s year up to its end: state -> count."""
        if self._registrations is None:
            last = as_of.next()
            last_day = date.fromordinal(date(last.year, last.month, 1).toordinal() - 1)
            by_child: dict[int | None, dict[str, int]] = {}
            for key, state, count in await store.registration_counts(
                    self.conn, self.groups, f"{as_of.year}-01-01", last_day.isoformat()):
                for k in {None, None if key == self.area.id else key}:
                    states = by_child.setdefault(k, {})
                    states[state] = states.get(state, 0) + count
            self._registrations = by_child
        return self._registrations.get(self._key(child), {})


class StatsService:
    """Statistics for officers; built once per process (``Core.stats``)."""

    def __init__(self, db: Database, config: Config, renderer=None,
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self._renderer = renderer
        self._targets: dict[str, tuple[str, AreaTarget]] | None = None
        self._gate = asyncio.Semaphore(STATS_CONCURRENCY)
        self._calendar_paths: list[str | None] | None = None

    @asynccontextmanager
    async def _reading(self):
        """The read connection, for one question at a time per ``STATS_CONCURRENCY``, started
        when the dialogs' writes have settled (at most ``WRITES_SETTLE_S`` later): a burst of
        officers' questions must not crowd out village heads' messages (on a small machine
        every database trip of theirs would wait for the Python work of the statistics)."""
        async with self._gate:
            await self.db.writes_settled(WRITES_SETTLE_S)
            async with self.db.read() as conn:
                yield conn

    async def _give_way(self) -> None:
        """Between the pieces of a long read (a province's household list, a year of monthly
        rows), let the questions waiting for the read connection go first: one officer's
        spreadsheet does not hold up the others' summaries. Called inside ``_reading``."""
        self._gate.release()
        try:
            await asyncio.sleep(0)  # a waiting question takes the gate
        finally:
            # Shielded: cancelled here, the gate is still taken back before ``_reading``
            # gives it up, so it is never released twice.
            await asyncio.shield(self._gate.acquire())

    @property
    def renderer(self) -> charts.ChartRenderer:
        if self._renderer is None:
            self._renderer = charts.ChartRenderer(workers=self.config.stats.chart_workers)
        return self._renderer

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()

    async def resolve(self) -> None:
        """Find the area of every ``[[targets.areas]]`` entry (ConfigError naming the setting
        when one is unknown), and the calendar's overrides (for due dates)."""
        resolved: dict[str, tuple[str, AreaTarget]] = {}
        async with self.db.read() as conn:
            for entry in self.config.targets.areas:
                area = await configured_area(conn, entry.area, entry.setting)
                resolved[entry.setting] = (area.path, entry)
            self._calendar_paths = await override_paths(conn, self.config)
        async with self.db.write() as conn:
            rebuilt = await effective.ensure(conn, self.config.stats.carry_months)
        if rebuilt is not None:
            log.info("counted every village's figures month by month again (%d rows, "
                     "carry %d months)", rebuilt, self.config.stats.carry_months)
        self._targets = resolved

    async def target(self, area: Area) -> Target:
        if self._targets is None:
            await self.resolve()
        return target_for(area.path, self.config.targets, self._targets)

    async def _effective_target(self, area: Area) -> float:
        return (await self.target(area)).effective(self.config.targets.ethnic_minority_factor)

    def _due(self, village: Area, month: Month) -> date:
        index = governing(village, self._calendar_paths or [None])
        return calendars(self.config.calendar)[index].monthly.due(month)

    # ---- a question ---------------------------------------------------------------------

    async def question(self, conn, area: Area) -> Question:
        level = self.config.report_level
        if area.level == level:  # a village: itself, no child rows
            counts = await store.village_counts(conn, [(area.id, area.path)], level)
            return Question(self, conn, area, counts, [])
        children = sorted(await area_store.children(conn, area), key=lambda c: name_key(c.name))
        counts = await store.village_counts(conn, [(c.id, c.path) for c in children], level)
        return Question(self, conn, area, counts, [c for c in children if counts.get(c.id)])

    def chart_kinds(self, area: Area) -> tuple[str, ...]:
        """The charts that say something about ``area``: a village has no child areas to
        compare (reduction, completeness and ranking are by child area)."""
        if area.level == self.config.report_level:
            return tuple(k for k in CHART_KINDS if k not in BY_CHILD_AREA)
        return CHART_KINDS

    async def _as_of(self, period: Period) -> Month | None:
        """``as_of``, once the configuration is resolved against the areas."""
        if self._calendar_paths is None:
            await self.resolve()
        return self.as_of(period)

    def today(self) -> date:
        return self.clock().astimezone(self.config.timezone).date()

    def latest_month(self) -> Month:
        """The month whose reports are coming in now: early in a month (until
        ``reports.monthly.previous_month_until_day``) the month just ended, then this one."""
        return default_month(self.today(), self.config.monthly.previous_month_until_day)

    def as_of(self, period: Period) -> Month | None:
        """The month a period's figures are of: its last month once that is over, else the
        latest month (``latest_month``; a period that starts later: its first month); None
        when the period lies ahead."""
        if period.first > Month.of(self.today()):
            return None
        return max(period.first, min(period.last, self.latest_month()))

    def running(self, period: Period) -> bool:
        """The period is not over: its figures go only as far as the latest month."""
        return period.last >= Month.of(self.today())

    def period_label(self, period: Period) -> str:
        """The period as shown, saying how far a period not yet over goes: «năm 2026 (đến
        tháng 11/2026)», «tháng 12/2026 (đến ngày 03/12/2026)»."""
        as_of = self.as_of(period)
        if as_of is not None and as_of < period.last:
            return t("stats.period.until_month", period=period_label(period),
                     month=as_of.label)
        if as_of is not None and self.running(period):
            return t("stats.period.until_day", period=period_label(period),
                     day=self.today().strftime("%d/%m/%Y"))
        return period_label(period)

    def baseline_year(self, year: int) -> int:
        if self.config.stats.baseline_year:
            return self.config.stats.baseline_year
        try:
            return standard_for(self.config.poverty, year).first_year
        except NoStandardError:
            return year

    async def baseline(self, q: Question, as_of: Month) -> tuple[Month | None, str]:
        """The baseline month (None: no data) and how to name it."""
        year = self.baseline_year(as_of.year)
        end_before = Month(year - 1, 12)
        if await q.at(end_before) is not None:
            return end_before, t("stats.baseline.end_of_year", year=year - 1)
        first = await store.first_month_with_data(q.conn, q.area.path, self.config.report_level,
                                                  f"{year}-01", min(as_of, Month(year, 12)).key)
        if first is None:
            return None, t("stats.baseline.end_of_year", year=year - 1)
        month = Month.parse_key(first)
        return month, t("stats.baseline.month", period=month.label)

    async def _reports(self, q: Question, month: Month, child: Area | None = None,
                       villages: int | None = None) -> Reports:
        """The monthly reports of ``month`` of the area (or a child): on time, late, missing."""
        filed, on_time = await q.filed(month, child)
        if villages is None:
            villages = q.count(child)
        return Reports(on_time, filed - on_time, villages - filed)

    def cutoff(self, month: Month) -> str:
        """The end of ``month``'s due day (default calendar), as an ISO time in UTC."""
        due = self.config.calendar.default.monthly.due(month)
        end = datetime.combine(due, datetime.min.time(), self.config.timezone)
        return (end + timedelta(days=1)).astimezone(UTC).isoformat(timespec="seconds")

    async def _filed_with_overrides(self, q: Question, month: Month
                                    ) -> dict[int | None, tuple[int, int]]:
        """(filed, on time) by child area when due dates differ between areas: each report
        against its own village's due date."""
        tz = self.config.timezone
        out: dict[int | None, tuple[int, int]] = {}
        villages = {v.id: v for v in await q.load_villages()}
        for r in await store.filed_reports(q.conn, MONTHLY_FORM, month.key, month.key,
                                           q.area.path):
            village = villages.get(r.area_id)
            if village is None:
                continue
            on_time = (datetime.fromisoformat(r.first_filed_at).astimezone(tz).date()
                       <= self._due(village, month))
            keys = {None, q.child_of[village.id].id if village.id in q.child_of else None}
            for key in keys:
                filed, timely = out.get(key, (0, 0))
                out[key] = (filed + 1, timely + on_time)
        return out

    async def summary(self, area: Area, period: Period) -> Summary | None:
        """The figures of ``area`` for ``period``; None when there are none."""
        as_of = await self._as_of(period)
        if as_of is None:
            return None
        async with self._reading() as conn:
            q = await self.question(conn, area)
            await q.load([as_of, Month(as_of.year - 1, 12)])
            now = await q.at(as_of)
            if now is None:
                return None
            base_month, base_label = await self.baseline(q, as_of)
            start = await q.at(Month(as_of.year - 1, 12))
            baseline = await q.at(base_month) if base_month else None
            own = await q.reported(as_of)
            reports = await self._reports(q, as_of)
            regs = await q.registrations(as_of)
            support = await q.support(m for m in period.months() if m <= as_of)
            children = [(c, await q.at(as_of, c)) for c in q.children]
            carried = await q.carried(as_of)
            found = (await store.carried_villages(conn, area.path, as_of.key,
                                                  CARRIED_NAMES + 1) if carried else [])
            names = [(village, month) for _, village, month in
                     sorted(found, key=lambda r: area_key(r[0], r[1]))]
            counted = await q.counted(as_of)
        registered = sum(regs.values())
        recognised = regs.get("recognised", 0)
        return Summary(area, period, as_of, q.count(), own, now, start, baseline,
                       base_label, reports, registered, recognised, support,
                       await self._effective_target(area), children, carried, names,
                       q.count() - counted, self.period_label(period), q.single_village)

    # ---- charts ---------------------------------------------------------------------------

    async def chart_data(self, kind: str, area: Area, period: Period):
        """The data of chart ``kind`` (see reports.figures), or None without data."""
        as_of = await self._as_of(period)
        if as_of is None or kind not in self.chart_kinds(area):
            return None
        today = self.today()
        async with self._reading() as conn:
            q = await self.question(conn, area)
            if await q.at(as_of) is None:
                return None
            data = await getattr(self, f"_chart_{kind}")(q, as_of, today)
        return data if data is not None and charts.has_data(kind, data) else None

    async def chart(self, kind: str, area: Area, period: Period) -> tuple[bytes, str] | None:
        """The PNG of chart ``kind`` and its one-line reading; None without data."""
        data = await self.chart_data(kind, area, period)
        if data is None:
            return None
        png = await self.renderer.render(kind, data)
        return png, getattr(charts, f"reading_{kind}")(data)

    async def why_no_chart(self, kind: str, area: Area, period: Period) -> str:
        """What a chart without data lacks, in a sentence for the officer."""
        as_of = await self._as_of(period)
        label = self.period_label(period)
        if as_of is None:
            return t("stats.no_data", area=area.name, period=label)
        async with self._reading() as conn:
            q = await self.question(conn, area)
            if await q.at(as_of) is None:
                return t("stats.no_data", area=area.name, period=label)
            if kind == "baseline":
                base_month, base_label = await self.baseline(q, as_of)
                if base_month is None:
                    return t("stats.no_chart.baseline", area=area.name, label=base_label)
            if kind == "funnel" and not await q.registrations(as_of):
                return t("stats.no_chart.funnel", area=area.name, year=as_of.year)
            if kind in ("reduction", "ranking"):
                return t("stats.no_chart.reduction", area=area.name, year=as_of.year,
                         before=as_of.year - 1)
        return t("stats.no_chart_data", area=area.name, period=label)

    async def _chart_trend(self, q: Question, as_of: Month, today: date) -> TrendData:
        months = [_month_of(i) for i in range(_index(as_of) - 12, _index(as_of) + 1)]
        await q.load([*months, Month(as_of.year - 1, 12)])
        figures = await q.series(months)
        rates = tuple(f.poor_rate if f else None for f in figures)
        points = await self._effective_target(q.area)
        # The target path of this year: from the rate at the end of last year, down by the
        # target's points spread over the months (none before the year starts).
        start = await q.at(Month(as_of.year - 1, 12))
        anchor = start.poor_rate if start else None
        target: list[float | None] = []
        for month in months:
            elapsed = 0 if month.year < as_of.year else month.month
            if anchor is None or month < Month(as_of.year - 1, 12):
                target.append(None)
            else:
                target.append(max(0.0, anchor - points * elapsed / 12))
        return TrendData(q.area.name, today, tuple(m.key for m in months), rates,
                         tuple(target), points, await q.carried(as_of))

    async def _child_reductions(self, q: Question, as_of: Month
                                ) -> list[tuple[Area, float | None, float | None,
                                                Carried | None]]:
        out = []
        for child in q.children:
            now = await q.at(as_of, child)
            start = await q.at(Month(as_of.year - 1, 12), child)
            reduction = (None if not now or not start or now.poor_rate is None
                         or start.poor_rate is None else start.poor_rate - now.poor_rate)
            out.append((child, reduction, now.poor_rate if now else None,
                        await q.carried(as_of, child)))
        return out

    async def _chart_reduction(self, q: Question, as_of: Month, today: date) -> ReductionData:
        rows = [ChildReduction(child.name, reduction, await self._effective_target(child),
                               carried)
                for child, reduction, _, carried in await self._child_reductions(q, as_of)]
        return ReductionData(q.area.name, today, as_of.year, tuple(rows),
                             await q.carried(as_of))

    async def _chart_ranking(self, q: Question, as_of: Month, today: date) -> RankingData:
        rows = [RankingRow(child.name, reduction, now, carried)
                for child, reduction, now, carried in await self._child_reductions(q, as_of)]
        rows.sort(key=lambda r: (r.reduction is None, -(r.reduction or 0.0), r.name))
        return RankingData(q.area.name, today, as_of.year, tuple(rows), await q.carried(as_of))

    async def _chart_baseline(self, q: Question, as_of: Month, today: date
                              ) -> BaselineData | None:
        base_month, label = await self.baseline(q, as_of)
        if base_month is None:
            return None
        baseline = await q.at(base_month)
        months = [base_month] + [Month(y, 12) for y in range(base_month.year, as_of.year)
                                 if Month(y, 12) > base_month]
        if months[-1] != as_of:
            months.append(as_of)
        counts = tuple((f.poor_and_near if f else None) for f in await q.series(months))
        return BaselineData(q.area.name, today, label, baseline.poor_and_near,
                            tuple(m.key for m in months), counts, await q.carried(as_of))

    async def _chart_completeness(self, q: Question, as_of: Month, today: date
                                  ) -> CompletenessData:
        rows = []
        for child in q.children:
            r = await self._reports(q, as_of, child)
            if r.filed + r.missing:
                rows.append(ChildCompleteness(child.name, r.on_time, r.late, r.missing))
        return CompletenessData(q.area.name, today, t("stats.period.month",
                                                      period=as_of.label), tuple(rows))

    async def _chart_funnel(self, q: Question, as_of: Month, today: date) -> FunnelData:
        counts = await q.registrations(as_of)
        return FunnelData(q.area.name, today, sum(counts.values()),
                          counts.get("under_review", 0), counts.get("recognised", 0),
                          counts.get("not_yet", 0), counts.get("withdrawn", 0))

    # ---- awards ---------------------------------------------------------------------------

    async def candidates(self, area: Area, period: Period) -> Candidates | None:
        """The child areas (a village: itself) that meet an award rule of their level, with
        their figures."""
        as_of = await self._as_of(period)
        if as_of is None:
            return None
        cfg = self.config.awards
        last_full = as_of.year if as_of.month == 12 else as_of.year - 1
        found: list[Candidate] = []
        carried: dict[str, Carried] = {}
        async with self._reading() as conn:
            q = await self.question(conn, area)
            if await q.at(as_of) is None:
                return None
            base_month, base_label = await self.baseline(q, as_of)
            await q.load([Month(y, 12) for y in range(last_full - cfg.consecutive_years,
                                                      last_full + 1)])
            for child in q.children or [q.area]:
                rules = cfg.rules_for(child.level)
                target = await self.target(child)
                factor = (self.config.targets.ethnic_minority_factor
                          if target.ethnic_minority else 1.0)
                hits = []
                if POINTS in rules:
                    reductions: dict[int, float | None] = {}
                    for year in range(last_full - cfg.consecutive_years + 1, last_full + 1):
                        before = await q.at(Month(year - 1, 12), child)
                        after = await q.at(Month(year, 12), child)
                        reductions[year] = (None if not before or not after
                                            or before.poor_rate is None
                                            or after.poor_rate is None
                                            else before.poor_rate - after.poor_rate)
                    hits.append(points_rule(child.name, reductions, last_full, cfg, factor))
                if HALVED in rules and base_month is not None:
                    base = await q.at(base_month, child)
                    now = await q.at(as_of, child)
                    hits.append(halved_rule(child.name, base.poor_and_near if base else None,
                                            now.poor_and_near if now else None, cfg))
                    if hits[-1] is not None and (mark := await q.carried(as_of, child)):
                        carried[child.name] = mark
                found += [hit for hit in hits if hit is not None]
        return Candidates(as_of, found, carried, q.single_village,
                          None if base_month is not None else base_label)

    # ---- spreadsheets ---------------------------------------------------------------------

    async def sheet(self, kind: str, area: Area, period: Period) -> tuple[bytes, str] | None:
        """Workbook ``kind`` (xlsx bytes) and its file name; None without data. The data is
        gathered in short pieces, the workbook built in a chart process: a province's
        household list never stops the event loop."""
        data = await self.sheet_data(kind, area, period)
        if data is None:
            return None
        xlsx = await self.renderer.build_sheet(kind, data)
        return xlsx, sheets.file_name(kind, area.name, period.key)

    def why_no_sheet(self, kind: str, area: Area, period: Period) -> str:
        """What a workbook without data lacks, in a sentence for the officer."""
        if kind == "households":
            return t("stats.no_sheet.households", area=area.name)
        if kind == "registrations":
            return t("stats.no_sheet.registrations", area=area.name)
        return t("stats.no_sheet_data", area=area.name, period=self.period_label(period))

    async def sheet_data(self, kind: str, area: Area, period: Period):
        """The data of workbook ``kind`` (see reports.figures), or None without data."""
        as_of = await self._as_of(period)
        if as_of is None:
            return None
        async with self._reading() as conn:
            q = await self.question(conn, area)
            return await getattr(self, f"_sheet_{kind}")(q, period, as_of, self.today())

    async def _sheet_monthly(self, q: Question, period: Period, as_of: Month, today: date
                             ) -> MonthlySheetData | None:
        """Every village of every month of the period (the last twelve at most) as it counts
        in the statistics: its own report, or its earlier one carried (marked so), or none —
        the rows ``Question`` sums, so the sheet's totals are the summary's. Read a month at
        a time and built in turns of ``ROWS_PER_TURN`` villages, letting other chats in."""
        months = [m for m in period.months() if m <= as_of][-12:]
        villages = await q.load_villages()
        parents = {a.id: a for a in await area_store.subtree(q.conn, q.area)}
        tz = self.config.timezone
        out, found = [], False
        for month in months:
            by_village = {r.area_id: r for r in await store.effective_rows(
                q.conn, q.area.path, [month.key])}
            found = found or bool(by_village)
            filed = {r.area_id: r for r in await store.filed_reports(
                q.conn, MONTHLY_FORM, month.key, month.key, q.area.path)}
            lines = []
            for number, village in enumerate(villages, start=1):
                if number % ROWS_PER_TURN == 0:
                    await asyncio.sleep(0)
                data = by_village.get(village.id)
                commune = parents.get(village.parent_id)
                commune_name = commune.name if commune and commune.id != village.id else ""
                if data is None:
                    lines.append(VillageMonthRow(commune_name, village.name, *([None] * 9), "",
                                                 None, None, None))
                    continue
                figures = (data.total, data.poor, data.near_poor)
                if data.period != month.key:  # not filed: its earlier report counts
                    lines.append(VillageMonthRow(
                        commune_name, village.name, *figures, None, None, None, data.em_poor,
                        data.loans, None, "", None, None, None, data.period))
                    continue
                report = filed[village.id]
                first = datetime.fromisoformat(report.first_filed_at).astimezone(tz)
                at = datetime.fromisoformat(report.submitted_at).astimezone(tz)
                lines.append(VillageMonthRow(
                    commune_name, village.name, *figures, data.exited, data.newly_poor,
                    data.fallen_back, data.em_poor, data.loans, data.support_vnd,
                    data.note or "", f"{at:%d/%m/%Y %H:%M}", report.submitted_by,
                    first.date() <= self._due(village, month)))
            out.append((t("stats.period.month", period=month.label), tuple(lines)))
            await self._give_way()
        if not found:
            return None
        return MonthlySheetData(q.area.name, today, self.period_label(period), tuple(out))

    async def _summary_row(self, q: Question, name: str, child: Area | None, period: Period,
                           as_of: Month, base_month: Month | None) -> SummaryRow:
        now = await q.at(as_of, child)
        start = await q.at(Month(as_of.year - 1, 12), child)
        base = await q.at(base_month, child) if base_month else None
        reports = await self._reports(q, as_of, child)
        regs = await q.registrations(as_of, child)
        return SummaryRow(
            name, now.total if now else None, now.poor if now else None,
            now.near_poor if now else None, now.poor_rate if now else None,
            now.near_poor_rate if now else None, start.poor_rate if start else None,
            base.poor_and_near if base else None, q.count(child), reports.filed,
            reports.on_time, sum(regs.values()), regs.get("recognised", 0),
            await q.support((m for m in period.months() if m <= as_of), child),
            await q.carried(as_of, child), q.count(child) - await q.counted(as_of, child))

    async def _sheet_summary(self, q: Question, period: Period, as_of: Month, today: date
                             ) -> SummarySheetData | None:
        """One row per child area (a village: none), then the area's total: the figures
        ``Question`` sums, as the chat summary shows them."""
        if await q.at(as_of) is None:
            return None
        base_month, base_label = await self.baseline(q, as_of)
        name = q.area.name if q.single_village else t("stats.total")
        total = await self._summary_row(q, name, None, period, as_of, base_month)
        rows = [await self._summary_row(q, child.name, child, period, as_of, base_month)
                for child in q.children]
        return SummarySheetData(q.area.name, today, self.period_label(period), base_label,
                                tuple(rows), total)

    async def _sheet_households(self, q: Question, period: Period, as_of: Month,
                                today: date) -> HouseholdSheetData | None:
        """Every household of the area's villages. Read ``VILLAGES_PER_READ`` villages at a
        time (a province holds hundreds of thousands of households) and built in turns of
        ``ROWS_PER_TURN`` rows, so other chats are answered meanwhile, and other questions
        go between the pieces (``_give_way``)."""
        names = {a.id: a for a in await area_store.subtree(q.conn, q.area)}
        villages = [a.id for a in names.values() if a.level == self.config.report_level]
        labels: dict[str, str] = {}
        rows = []
        for first in range(0, len(villages), VILLAGES_PER_READ):
            found = await store.households_of(q.conn, villages[first:first + VILLAGES_PER_READ])
            for number, (village_id, code, head, status, since, minority, no_work, merit,
                         loan) in enumerate(found, start=1):
                if number % ROWS_PER_TURN == 0:
                    await asyncio.sleep(0)
                village = names[village_id]
                commune = names.get(village.parent_id)
                label = labels.get(status)
                if label is None:
                    label = labels[status] = status_label(status).capitalize()
                rows.append(HouseholdRow(
                    commune.name if commune and commune is not village else "", village.name,
                    code, head, label, date.fromisoformat(since), bool(minority),
                    bool(no_work), bool(merit), bool(loan)))
            await self._give_way()
        return HouseholdSheetData(q.area.name, today, tuple(rows)) if rows else None

    async def _sheet_registrations(self, q: Question, period: Period, as_of: Month,
                                   today: date) -> RegistrationSheetData | None:
        names = {a.id: a for a in await area_store.subtree(q.conn, q.area)}
        rows = []
        for number, r in enumerate(await registrations_of(q.conn, within=q.area), start=1):
            if number % ROWS_PER_TURN == 0:
                await asyncio.sleep(0)
            village = names.get(r.village_id)
            commune = names.get(village.parent_id) if village else None
            plan = t(PLAN_KEYS.get(r.plan_kind, "household.plan.other"))
            if r.plan_text:
                plan = f"{plan}: {r.plan_text}"
            rows.append(RegistrationRow(
                commune.name if commune else "", village.name if village else "",
                r.household_code, r.head_name, r.target_year, plan,
                ", ".join(t(SUPPORT_KEYS.get(s, "household.support.other"))
                          for s in r.support_asked),
                r.registered_on, t(REGISTRATION_STATE_KEYS[r.state]),
                r.state_at.astimezone(self.config.timezone).date()))
        return RegistrationSheetData(q.area.name, today, tuple(rows)) if rows else None


@dataclass(frozen=True, slots=True)
class Candidates:
    """Who meets an award rule as of ``as_of``, and whose figures of now are carried."""

    as_of: Month
    found: list[Candidate]
    carried: dict[str, Carried]  # by candidate name
    single_village: bool  # the area is one village, judged itself
    no_baseline: str | None = None  # the baseline's label when there are no figures of it


PERIOD_KEYS = {"month": "stats.period.month", "quarter": "stats.period.quarter",
               "year": "stats.period.year"}


def period_label(period: Period) -> str:
    """"tháng 10/2026", "quý 3/2026", "6 tháng đầu năm 2026", "năm 2026"."""
    if period.kind == "month":
        return t(PERIOD_KEYS["month"], period=period.first.label)
    if period.kind == "half":
        return t("stats.period.half_first" if period.number == 1 else "stats.period.half_second",
                 year=period.year)
    return t(PERIOD_KEYS[period.kind], number=period.number, year=period.year)

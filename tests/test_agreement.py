"""Agreement: for random reporting histories, the chat summary, the data each chart plots and
each spreadsheet's totals say the same thing for the same area and period — at the province,
a commune and a village — and the same as an oracle computed here from the reports alone
(issue 11, item 3).

The spreadsheets are read back from the real xlsx bytes with openpyxl; the charts from the
artists of the real matplotlib figures (bars, lines, texts), not from the data handed to
them; the chat from the text the officer reads.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from common.config import load_config, replace
from common.numbers import format_count, format_money, format_percent
from handlers.stats import summary_text
from reports import charts
from reports.periods import Month, Period
from reports.stats import StatsService
from storage import areas, households
from storage.db import Database
from storage.reports import MONTHLY_FORM, save_report
from tests.conftest import ROOT, SETUP

TZ_OFFSET = timedelta(hours=7)
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 09:00 on 3 December 2026 in Vietnam
MONTHS = [Month(2025, 9)]
while MONTHS[-1] < Month(2026, 11):
    MONTHS.append(MONTHS[-1].next())
PERIODS = [Period("month", 2026, 11), Period("month", 2026, 10), Period("quarter", 2026, 3),
           Period("half", 2026, 2), Period("year", 2026, 0), Period("month", 2026, 2)]


@dataclass
class Report:
    month: Month
    figures: dict
    first_filed: datetime  # UTC
    correction: dict | None = None  # a second version, filed a day later


@dataclass
class Village:
    commune: int
    reports: dict[Month, Report] = field(default_factory=dict)
    baseline: dict | None = None  # a December 2021 report
    registrations: list[str] = field(default_factory=list)  # their states


@dataclass
class Scenario:
    communes: int
    villages: list[Village]
    period: Period
    commune_asked: int
    village_asked: int


def _figures(rng: random.Random) -> dict:
    total = rng.randint(40, 400)
    poor = rng.randint(0, total // 2)
    near = rng.randint(0, (total - poor) // 2)
    em_poor = rng.randint(0, poor)
    return {"total": total, "poor": poor, "near_poor": near, "exited": rng.randint(0, 3),
            "newly_poor": rng.randint(0, 2), "fallen_back": rng.randint(0, 1),
            "em_poor": em_poor, "loans": rng.randint(0, poor + near),
            "support_vnd": rng.choice([0, 0, 500_000, 1_250_000, 7_000_000]), "note": ""}


@st.composite
def scenarios(draw) -> Scenario:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    communes = draw(st.integers(1, 3))
    villages = []
    for commune in range(communes):
        for _ in range(draw(st.integers(1, 3))):
            village = Village(commune)
            rate = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))  # how often it reports
            for month in MONTHS:
                if rng.random() >= rate:
                    continue
                due = date(month.next().year, month.next().month, 5)
                day = due + timedelta(days=rng.choice([-4, -1, 0, 1, 6]))
                filed = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
                filed = min(filed, NOW - timedelta(hours=3))
                village.reports[month] = Report(
                    month, _figures(rng), filed,
                    _figures(rng) if rng.random() < 0.15 else None)
            if rng.random() < 0.5:
                village.baseline = _figures(rng)
            village.registrations = [rng.choice(["registered", "under_review", "recognised"])
                                     for _ in range(rng.randint(0, 2))]
            villages.append(village)
    return Scenario(communes, villages, draw(st.sampled_from(PERIODS)),
                    draw(st.integers(0, communes - 1)), draw(st.integers(0, len(villages) - 1)))


# ---- the oracle: straight from the reports -----------------------------------------------


def _shift(month: Month, n: int) -> Month:
    index = month.year * 12 + month.month - 1 + n
    return Month(index // 12, index % 12 + 1)


def _counted(village: Village, month: Month, carry: int) -> Report | None:
    found = [r for m, r in village.reports.items() if _shift(month, -carry) <= m <= month]
    return max(found, key=lambda r: r.month) if found else None


def _current(report: Report) -> dict:
    return report.correction or report.figures


def oracle(villages: list[Village], period: Period, as_of: Month, carry: int) -> dict:
    total = poor = near = reported = on_time = carried = 0
    counted = 0
    for village in villages:
        report = _counted(village, as_of, carry)
        if report is None:
            continue
        counted += 1
        figures = _current(report)
        total, poor, near = (total + figures["total"], poor + figures["poor"],
                             near + figures["near_poor"])
        if report.month == as_of:
            reported += 1
            due = date(as_of.next().year, as_of.next().month, 5)
            on_time += (report.first_filed + TZ_OFFSET).date() <= due
        else:
            carried += 1
    support = sum(_current(v.reports[m])["support_vnd"] for v in villages
                  for m in period.months() if m <= as_of and m in v.reports)
    # Registrations of the year up to the end of as_of (all were made on 1 March 2026).
    registrations = [s for v in villages for s in v.registrations
                     if as_of.year == 2026 and as_of.month >= 3]
    return {"total": total, "poor": poor, "near": near, "reported": reported,
            "on_time": on_time, "carried": carried, "counted": counted, "support": support,
            "registered": len(registrations),
            "recognised": registrations.count("recognised")}


# ---- building the world ------------------------------------------------------------------


async def build(db: Database, scn: Scenario):
    at = NOW - timedelta(days=900)
    async with db.write() as conn:
        province = await areas.add_area(conn, parent=None, level="province",
                                        name="Tỉnh Lai Châu", actor=SETUP, at=at)
        communes = [await areas.add_area(conn, parent=province, level="commune",
                                         name=f"Xã Số {c + 1}", actor=SETUP, at=at)
                    for c in range(scn.communes)]
        village_areas = []
        for number, village in enumerate(scn.villages, start=1):
            village_areas.append(await areas.add_area(
                conn, parent=communes[village.commune], level="village",
                name=f"Bản Số {number}", actor=SETUP, at=at))
    for area, village in zip(village_areas, scn.villages, strict=True):
        async with db.write() as conn:
            if village.baseline is not None:
                await save_report(conn, area_id=area.id, form=MONTHLY_FORM, period="2021-12",
                                  data=village.baseline, actor=SETUP, via="test", at=at)
            for report in village.reports.values():
                await save_report(conn, area_id=area.id, form=MONTHLY_FORM,
                                  period=report.month.key, data=report.figures, actor=SETUP,
                                  via="test", at=report.first_filed)
                if report.correction is not None:
                    await save_report(conn, area_id=area.id, form=MONTHLY_FORM,
                                      period=report.month.key, data=report.correction,
                                      actor=SETUP, via="test",
                                      at=report.first_filed + timedelta(hours=1))
            for n, state in enumerate(village.registrations):
                household = await households.add_household(
                    conn, village_id=area.id, code=f"H{n}", head_name=f"Hộ {n}",
                    status="poor", status_since=date(2025, 1, 1), actor=SETUP, at=at)
                registration = await households.register_exit(
                    conn, household.id, target_year=2027, plan_kind="livestock",
                    registered_on=date(2026, 3, 1), actor=SETUP, at=at)
                if state != "registered":
                    await households.set_registration_state(
                        conn, registration.id, "under_review", actor=SETUP, at=at)
                if state == "recognised":
                    await households.set_registration_state(
                        conn, registration.id, "recognised", actor=SETUP, at=at,
                        effective_date=date(2026, 10, 1), exit_window_months=36)
    return province, communes, village_areas


# ---- reading back what people see --------------------------------------------------------


def _sheets(document: bytes) -> list[list[list]]:
    return [[[c.value for c in row] for row in ws.iter_rows()]
            for ws in load_workbook(io.BytesIO(document)).worksheets]


def _total_row(rows: list[list], label: str) -> list:
    return next(r for r in rows if r[0] == label)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


async def check(stats: StatsService, area, villages: list[Village], period: Period,
                single_village: bool, child_villages: dict[str, list[Village]]) -> None:
    as_of = stats.as_of(period)
    truth = oracle(villages, period, as_of, stats.config.stats.carry_months)
    summary = await stats.summary(area, period)
    if not truth["counted"]:
        assert summary is None
        assert await stats.chart_data("trend", area, period) is None
        assert await stats.sheet("summary", area, period) is None
        return
    text = summary_text(summary, "03/12/2026 09:00")

    # The chat.
    assert f"• Tổng số hộ: {format_count(truth['total'])}" in text
    assert f"• Hộ nghèo: {format_count(truth['poor'])} " \
        f"({format_percent(100 * truth['poor'] / truth['total'])})" in text
    assert f"• Hộ cận nghèo: {format_count(truth['near'])} " \
        f"({format_percent(100 * truth['near'] / truth['total'])})" in text
    assert f"• Vận động hỗ trợ trong kỳ: {format_money(truth['support'])}" in text
    assert f"{truth['registered']} hộ, đã công nhận {truth['recognised']}" in text
    if single_village:
        assert ("chưa gửi — dùng số liệu tháng" in text) == bool(truth["carried"])
    else:
        assert f"{truth['reported']}/{len(villages)} thôn đã gửi " \
            f"({truth['on_time']} đúng hạn, {truth['reported'] - truth['on_time']} muộn)" in text
        if truth["carried"]:
            assert f"• {truth['carried']} thôn chưa gửi tháng {as_of.label} — dùng số liệu" \
                in text
        else:
            assert "chưa gửi tháng" not in text

    # The monthly sheet: every village of the last month as it counts, totals as the chat.
    monthly = _sheets((await stats.sheet("monthly", area, period))[0])
    last = monthly[-1]
    total = _total_row(last, "Tổng cộng")
    assert (total[2], total[3], total[5]) == (truth["total"], truth["poor"], truth["near"])
    assert (total[4], total[6]) == (_rate(truth["poor"], truth["total"]),
                                    _rate(truth["near"], truth["total"]))
    assert total[1] == f"{truth['reported']}/{len(villages)} thôn đã gửi"
    assert total[16] == truth["on_time"]
    carried_rows = [r for r in last if isinstance(r[14], str)
                    and r[14].startswith("Chưa gửi — dùng số liệu tháng")]
    assert len(carried_rows) == truth["carried"]
    assert sum(_total_row(sheet, "Tổng cộng")[12] or 0 for sheet in monthly) == truth["support"]

    # The summary sheet: its total row (a village: its own row) as the chat.
    [rows] = _sheets((await stats.sheet("summary", area, period))[0])
    name = area.name if single_village else "Tổng cộng"
    total = _total_row(rows[7:], name)
    assert total[1:6] == [truth["total"], truth["poor"], _rate(truth["poor"], truth["total"]),
                          truth["near"], _rate(truth["near"], truth["total"])]
    assert total[10:16] == [len(villages), truth["reported"], truth["on_time"],
                            truth["registered"], truth["recognised"], truth["support"]]
    assert (total[16] is not None and "chưa gửi" in total[16]) == bool(truth["carried"])
    children = {r[0]: r for r in rows[7:] if r[0] != name}
    assert len(children) == (0 if single_village else len(summary.children))

    # The charts, read off the figures drawn.
    trend = await stats.chart_data("trend", area, period)
    line = charts.build("trend", trend).axes[0].lines[0]
    assert _round(float(line.get_ydata()[-1])) == _rate(truth["poor"], truth["total"])
    baseline = await stats.chart_data("baseline", area, period)
    if baseline is not None:
        ax = charts.build("baseline", baseline).axes[0]
        assert ax.patches[-1].get_height() == truth["poor"] + truth["near"]
        if summary.baseline is not None:
            assert ax.lines[0].get_ydata()[0] == summary.baseline.poor_and_near
    funnel = await stats.chart_data("funnel", area, period)
    if truth["registered"]:
        widths = [p.get_width() for p in charts.build("funnel", funnel).axes[0].patches]
        assert (widths[0], widths[2]) == (truth["registered"], truth["recognised"])
    else:
        assert funnel is None
    if single_village:
        assert stats.chart_kinds(area) == ("trend", "baseline", "funnel")
        return
    completeness = await stats.chart_data("completeness", area, period)
    on_time, late, missing = charts.build("completeness", completeness).axes[0].containers
    assert sum(p.get_width() for p in on_time) == truth["on_time"]
    assert sum(p.get_width() for p in late) == truth["reported"] - truth["on_time"]
    assert sum(p.get_width() for p in missing) == len(villages) - truth["reported"]
    carry = stats.config.stats.carry_months
    start_month = Month(as_of.year - 1, 12)
    expected = {}  # each child area's poverty rate now and its fall since the start
    for child, members in child_villages.items():
        now = oracle(members, period, as_of, carry)
        start = oracle(members, period, start_month, carry)
        rate = 100 * now["poor"] / now["total"] if now["total"] else None
        before = 100 * start["poor"] / start["total"] if start["total"] else None
        expected[child] = (rate, None if rate is None or before is None else before - rate)
    for child, (rate, fall) in expected.items():
        assert children[child][3] == _round(rate)
        assert children[child][7] == (None if fall is None else round(-fall, 2))
    ranking = await stats.chart_data("ranking", area, period)
    if ranking is not None:
        ax = charts.build("ranking", ranking).axes[0]
        names = [re.sub(r"^\d+\. | \*$", "", t.get_text()) for t in ax.texts
                 if t.get_gid() == "row"]
        rates = [t.get_text() for t in ax.texts if t.get_gid() == "rate"]
        assert sorted(names) == sorted(expected)
        for child, shown in zip(names, rates, strict=True):
            assert shown == format_percent(expected[child][0])  # "—" without figures
        values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
        falls = [expected[child][1] for child in names]
        assert values == ["chưa có số liệu" if f is None else
                          f"{f:.2f}".replace(".", ",").replace("-", "−") for f in falls]
        assert [f for f in falls if f is not None] == sorted(
            (f for f in falls if f is not None), reverse=True)  # best first, at the top
    else:
        assert all(fall is None for _, fall in expected.values())
    reduction = await stats.chart_data("reduction", area, period)
    if reduction is not None:
        ax = charts.build("reduction", reduction).axes[0]
        names = [re.sub(r" \*$", "", t.get_text()) for t in ax.texts if t.get_gid() == "row"]
        for child, bar in zip(names, ax.patches, strict=True):
            fall = expected[child][1]
            assert bar.get_width() == (0.0 if fall is None else fall)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scn=scenarios())
def test_chat_charts_and_sheets_agree_at_every_level(scn: Scenario):
    config = load_config(ROOT / "config.toml", env={})
    config = replace(config, stats=replace(config.stats, chart_workers=0))

    async def run() -> None:
        with tempfile.TemporaryDirectory() as folder:
            db = await Database.open(Path(folder) / "agree.sqlite3")
            try:
                province, communes, village_areas = await build(db, scn)
                stats = StatsService(db, config, clock=lambda: NOW)
                await check(stats, province, scn.villages, scn.period, False, {
                    c.name: [v for v in scn.villages if v.commune == n]
                    for n, c in enumerate(communes)})
                commune = communes[scn.commune_asked]
                members = {a.name: [v] for a, v in zip(village_areas, scn.villages, strict=True)
                           if v.commune == scn.commune_asked}
                await check(stats, commune, [v for vs in members.values() for v in vs],
                            scn.period, False, members)
                await check(stats, village_areas[scn.village_asked],
                            [scn.villages[scn.village_asked]], scn.period, True, {})
                stats.close()
            finally:
                await db.close()

    asyncio.run(run())

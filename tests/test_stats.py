"""Officers' statistics: figures against hand-computed fixtures (DOMAIN §8 reproduced),
the data behind each chart, award criteria at their thresholds, and /thongke in chat."""

from __future__ import annotations

import asyncio
import gc
import io
import sys
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from bot.app import tune_runtime
from common.config import replace
from handlers.core import Core
from reports import stats as stats_module
from reports.awards import AwardsConfig, halved_rule, points_rule
from reports.periods import Month, Period
from reports.stats import StatsService
from storage import areas, households
from storage.reports import MONTHLY_FORM, import_monthly, save_report
from tests.conftest import SETUP, Chat

ZERO = {"exited": 0, "newly_poor": 0, "fallen_back": 0, "em_poor": 0, "loans": 0,
        "support_vnd": 0, "note": ""}


def figures(total: int, poor: int, near: int, **more) -> dict:
    return {**ZERO, "total": total, "poor": poor, "near_poor": near, **more}


@pytest.fixture
def cfg(config):
    return replace(config, stats=replace(config.stats, chart_workers=0))


@pytest.fixture
def stats(db, cfg, clock):
    service = StatsService(db, cfg, clock=clock)
    yield service
    service.close()


async def history(db, rows, at=datetime(2026, 11, 1, 2, 0, tzinfo=UTC)):
    """Monthly reports filed long ago: (area, period, figures)."""
    async with db.write() as conn:
        await import_monthly(conn, [(a.id, p, d) for a, p, d in rows], actor=SETUP,
                             via="test", at=at)


async def filed(db, area, period, data, at):
    async with db.write() as conn:
        await save_report(conn, area_id=area.id, form=MONTHLY_FORM, period=period, data=data,
                          actor=SETUP, via="test", at=at)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+07:00").astimezone(UTC)


@pytest.fixture
async def muong_te(db, world, clock):
    """Mường Tè's two villages: the baseline (end of 2021), the end of 2025, October 2026."""
    v1, v2, v3 = world.village, world.village2, world.far_village
    await history(db, [
        (v1, "2021-12", figures(120, 30, 12)), (v2, "2021-12", figures(80, 20, 8)),
        (v3, "2021-12", figures(50, 25, 5)),
        (v1, "2025-12", figures(120, 18, 10)), (v2, "2025-12", figures(80, 12, 6)),
        (v3, "2025-12", figures(50, 20, 5)),
        (v2, "2026-09", figures(80, 11, 6, support_vnd=2_000_000)),
    ])
    # October 2026: Nà Khan on time (due 5 November), Nậm Củm late; Pa Ủ has not filed.
    await filed(db, v1, "2026-10", figures(121, 15, 9, support_vnd=5_000_000),
                local("2026-11-04 10:00"))
    await filed(db, v3, "2026-10", figures(50, 19, 5), local("2026-11-08 10:00"))
    return world


# ---- figures ------------------------------------------------------------------------------


async def test_a_communes_summary_against_hand_computed_figures(stats, muong_te):
    s = await stats.summary(muong_te.commune, Period.of_month(Month(2026, 10)))
    # Pa Ủ has not reported October: its September report counts.
    assert (s.now.total, s.now.poor, s.now.near_poor) == (121 + 80, 15 + 11, 9 + 6)
    assert round(s.now.poor_rate, 2) == round(100 * 26 / 201, 2) == 12.94
    assert s.reported_this_month == 1 and s.villages == 2
    assert round(s.start.poor_rate, 2) == 15.00  # 30 of 200 at the end of 2025
    assert round(s.reduction_this_year, 2) == round(15.0 - 100 * 26 / 201, 2) == 2.06
    assert s.baseline_label == "cuối năm 2021"
    assert s.baseline.poor_and_near == 70 and s.now.poor_and_near == 41
    assert round(s.baseline_change, 1) == -41.4
    assert (s.reports.on_time, s.reports.late, s.reports.missing) == (1, 0, 1)
    assert s.support_vnd == 5_000_000  # October only
    assert s.target == 1.5


async def test_a_provinces_summary_adds_its_communes(stats, muong_te):
    s = await stats.summary(muong_te.province, Period.of_month(Month(2026, 10)))
    assert (s.now.total, s.now.poor) == (251, 45)
    assert (s.reports.on_time, s.reports.late, s.reports.missing) == (1, 1, 1)
    assert [(a.name, f.poor) for a, f in s.children] == [("Xã Bum Nưa", 19),
                                                         ("Xã Mường Tè", 26)]
    year = await stats.summary(muong_te.province, Period("year", 2026, 0))
    # The year is not over: as of the month whose reports are coming in (5 November:
    # October's, due today), and it says so.
    assert year.as_of == Month(2026, 10) and year.label == "năm 2026 (đến tháng 10/2026)"
    assert year.support_vnd == 7_000_000


@pytest.mark.parametrize(("scope", "year", "total", "poor", "near", "poor_rate", "near_rate"), [
    ("Việt Nam", 2022, 26_230_000, 1_057_374, 915_274, "4.03", "3.49"),
    ("Việt Nam", 2023, 27_780_000, 815_101, 771_235, "2.93", "2.78"),
    ("Tỉnh Lai Châu", 2024, 107_713, 20_961, 10_053, "19.46", "9.33"),
    ("Tỉnh Lào Cai", 2024, 181_603, 20_411, 18_058, "11.24", "9.94"),
    ("Tỉnh Kon Tum", 2023, 149_500, 10_220, 6_568, "6.84", "4.39"),
])
async def test_the_real_figures_of_domain_8_are_reproduced(db, stats, clock, scope, year, total,
                                                          poor, near, poor_rate, near_rate):
    """Entered as the villages' December reports, they come out exactly (DOMAIN §8)."""
    async with db.write() as conn:
        root = await areas.add_area(conn, parent=None, level="province", name=scope,
                                    actor=SETUP, at=clock())
        villages = []
        for c in range(3):
            commune = await areas.add_area(conn, parent=root, level="commune",
                                           name=f"Xã {c}", actor=SETUP, at=clock())
            villages.append(await areas.add_area(conn, parent=commune, level="village",
                                                 name=f"Thôn {c}", actor=SETUP, at=clock()))
    shares = [(total // 3, poor // 3, near // 3)] * 2
    shares.append((total - 2 * (total // 3), poor - 2 * (poor // 3), near - 2 * (near // 3)))
    await history(db, [(v, f"{year}-12", figures(*share))
                       for v, share in zip(villages, shares, strict=True)])
    s = await stats.summary(root, Period("year", year, 0))
    assert (s.now.total, s.now.poor, s.now.near_poor) == (total, poor, near)
    assert f"{s.now.poor_rate:.2f}" == poor_rate and f"{s.now.near_poor_rate:.2f}" == near_rate


async def test_a_village_silent_for_longer_than_the_carry_limit_drops_out(db, stats, world):
    await history(db, [(world.village, "2025-06", figures(100, 10, 5)),
                       (world.village2, "2026-09", figures(80, 8, 4))])
    s = await stats.summary(world.commune, Period.of_month(Month(2026, 10)))
    assert s.now.total == 80  # Nà Khan's report is 16 months old


async def test_a_period_ahead_or_without_data_has_no_summary(stats, muong_te):
    assert await stats.summary(muong_te.commune, Period("year", 2027, 0)) is None
    assert await stats.summary(muong_te.commune, Period.of_month(Month(2019, 1))) is None


# ---- chart data -------------------------------------------------------------------------


async def test_the_trend_follows_the_months_and_the_target_path(stats, muong_te):
    data = await stats.chart_data("trend", muong_te.commune, Period.of_month(Month(2026, 10)))
    assert data.months[0] == "2025-10" and data.months[-1] == "2026-10"
    rates = dict(zip(data.months, data.rates, strict=True))
    assert rates["2025-10"] is None  # nothing reported before December 2025
    assert round(rates["2025-12"], 2) == 15.00
    assert round(rates["2026-09"], 2) == round(100 * 29 / 200, 2)  # 18 + 11 of 200
    target = dict(zip(data.months, data.target, strict=True))
    assert target["2025-11"] is None  # the path is this year's, from the end of last year
    assert target["2025-12"] == pytest.approx(15.0)
    assert round(target["2026-06"], 3) == 15.0 - 1.5 * 6 / 12  # half the year's target
    assert round(target["2026-10"], 3) == 15.0 - 1.5 * 10 / 12


async def test_reduction_and_ranking_by_child_area(stats, muong_te, db, clock):
    async with db.write() as conn:  # a third commune whose rate rose
        c = await areas.add_area(conn, parent=muong_te.province, level="commune",
                                 name="Xã Tà Tổng", actor=SETUP, at=clock())
        v = await areas.add_area(conn, parent=c, level="village", name="Bản Mới",
                                 actor=SETUP, at=clock())
    await history(db, [(v, "2025-12", figures(100, 10, 5)), (v, "2026-10", figures(100, 12, 5))])
    period = Period.of_month(Month(2026, 10))
    reduction = await stats.chart_data("reduction", muong_te.province, period)
    by_name = {c.name: c for c in reduction.children}
    assert round(by_name["Xã Mường Tè"].reduction, 2) == 2.06
    assert round(by_name["Xã Bum Nưa"].reduction, 2) == 2.0  # 40 % → 38 %
    assert by_name["Xã Tà Tổng"].reduction == pytest.approx(-2.0)
    assert {c.target for c in reduction.children} == {1.5}
    ranking = await stats.chart_data("ranking", muong_te.province, period)
    assert [r.name for r in ranking.rows] == ["Xã Mường Tè", "Xã Bum Nưa", "Xã Tà Tổng"]


async def test_the_baseline_chart_counts_poor_and_near_poor_at_each_year_end(stats, muong_te):
    data = await stats.chart_data("baseline", muong_te.commune, Period.of_month(Month(2026, 10)))
    assert data.baseline == 70 and data.baseline_label == "cuối năm 2021"
    assert data.months == ("2021-12", "2022-12", "2023-12", "2024-12", "2025-12", "2026-10")
    # The 2021 reports count for twelve months (stats.carry_months), then nothing until 2025.
    assert data.counts == (70, 70, None, None, 46, 41)


async def test_completeness_and_timeliness_by_commune(stats, muong_te):
    data = await stats.chart_data("completeness", muong_te.province,
                                  Period.of_month(Month(2026, 10)))
    assert [(c.name, c.on_time, c.late, c.missing) for c in data.children] == [
        ("Xã Bum Nưa", 0, 1, 0), ("Xã Mường Tè", 1, 0, 1)]


async def test_the_registration_funnel_counts_this_years_registrations(db, stats, muong_te,
                                                                        clock):
    async with db.write() as conn:
        for n, state in enumerate(("registered", "under_review", "recognised", "recognised")):
            household = await households.add_household(
                conn, village_id=muong_te.village.id, code=f"H{n}", head_name=f"Hộ {n}",
                status="poor", status_since=date(2025, 1, 1), actor=SETUP, at=clock())
            reg = await households.register_exit(
                conn, household.id, target_year=2027, plan_kind="livestock",
                registered_on=date(2026, 3, 1), actor=SETUP, at=clock())
            if state != "registered":
                await households.set_registration_state(conn, reg.id, "under_review",
                                                        actor=SETUP, at=clock())
            if state == "recognised":
                await households.set_registration_state(
                    conn, reg.id, "recognised", actor=SETUP, at=clock(),
                    effective_date=date(2026, 10, 1), exit_window_months=36)
    data = await stats.chart_data("funnel", muong_te.commune, Period.of_month(Month(2026, 10)))
    assert (data.registered, data.under_review, data.recognised) == (4, 1, 2)


# ---- awards -------------------------------------------------------------------------------


@pytest.mark.parametrize(("points", "qualifies"), [(4.0, True), (3.99, False), (6.5, True)])
def test_the_points_rule_at_its_threshold(points, qualifies):
    cfg = AwardsConfig()
    found = points_rule("Xã A", {2023: 5.0, 2024: points, 2025: 4.2}, 2025, cfg, 1.0)
    assert (found is not None) is qualifies


def test_the_points_rule_needs_three_consecutive_years_and_counts_the_minority_factor():
    cfg = AwardsConfig()
    assert points_rule("Xã A", {2024: 5.0, 2025: 5.0}, 2025, cfg, 1.0) is None  # 2023 missing
    assert points_rule("Xã A", {2023: 5.0, 2024: 5.9, 2025: 6.0}, 2025, cfg, 1.5) is None
    hit = points_rule("Xã A", {2023: 6.0, 2024: 6.1, 2025: 7.0}, 2025, cfg, 1.5)
    assert hit.threshold == 6.0 and hit.years == ((2023, 6.0), (2024, 6.1), (2025, 7.0))


@pytest.mark.parametrize(("now", "qualifies"), [(50, False), (49, True), (51, False)])
def test_the_halved_rule_needs_more_than_half(now, qualifies):
    assert (halved_rule("Thôn A", 100, now, AwardsConfig()) is not None) is qualifies


async def test_candidates_of_a_commune_are_its_villages_halved(stats, db, world):
    await history(db, [(world.village, "2021-12", figures(100, 30, 10)),
                       (world.village, "2026-10", figures(100, 12, 7)),  # 40 → 19: −52.5 %
                       (world.village2, "2021-12", figures(100, 30, 10)),
                       (world.village2, "2026-10", figures(100, 15, 5))])  # 40 → 20: −50 %
    found = (await stats.candidates(world.commune, Period.of_month(Month(2026, 10)))).found
    assert [(c.name, c.rule, c.baseline, c.now) for c in found] == [
        ("Bản Nà Khan", "halved", 40, 19)]


async def test_a_district_is_judged_by_points_too(stats, db, world, clock):
    async with db.write() as conn:
        district = await areas.add_area(conn, parent=world.province, level="district",
                                        name="Huyện Mường Tè", actor=SETUP, at=clock())
        commune = await areas.add_area(conn, parent=district, level="commune",
                                       name="Xã Ka Lăng", actor=SETUP, at=clock())
        village = await areas.add_area(conn, parent=commune, level="village",
                                       name="Bản Ka Lăng", actor=SETUP, at=clock())
    await history(db, [(village, f"{y}-12", figures(100, p, 30)) for y, p in
                       ((2021, 30), (2022, 26), (2023, 22), (2024, 18), (2025, 14))])
    found = (await stats.candidates(world.province, Period("year", 2025, 0))).found
    hits = [c for c in found if c.name == "Huyện Mường Tè"]
    assert [c.rule for c in hits] == ["points"]
    assert hits[0].years == ((2023, pytest.approx(4.0)), (2024, pytest.approx(4.0)),
                             (2025, pytest.approx(4.0)))


# ---- in chat ------------------------------------------------------------------------------


@pytest.fixture
def chat(db, cfg, clock):
    core = Core(db, cfg, clock)
    yield lambda sender: Chat(core, sender)
    core.close()


async def test_an_officer_asks_for_statistics_and_gets_charts_and_sheets(chat, muong_te, clock):
    officer = chat("200")
    reply = await officer.send("/thongke")
    assert "📊 Xã Mường Tè — tháng 10/2026 (số liệu tháng 10/2026, tính đến 05/11/2026 09:00)" \
        in reply
    assert "• Hộ nghèo: 26 (12,94 %)" in reply
    assert "giảm 2,06 điểm; mục tiêu 1,50 điểm/năm, đạt 138 %" in reply
    assert "• Báo cáo tháng 10/2026: 1/2 thôn đã gửi (1 đúng hạn, 0 muộn)" in reply
    assert "📈 Tỷ lệ nghèo theo tháng" in officer.options()

    reply = await officer.press("Tỷ lệ nghèo theo tháng")
    [chart] = [m for m in officer.last if m.image is not None]
    assert chart.image.startswith(b"\x89PNG") and "Xã Mường Tè" in chart.text
    assert officer.last[-1].options  # the menu again

    await officer.press("Excel số liệu tháng")
    [sheet] = [m for m in officer.last if m.document is not None]
    assert sheet.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(sheet.document))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "Bản Nà Khan" in cells and 121 in cells

    reply = await officer.send("quy 3/2026")  # another period, same area
    assert "📊 Xã Mường Tè — quý 3/2026" in reply
    assert "Đã đóng" in await officer.press("Xong")


async def test_statistics_are_refused_outside_the_area_and_to_village_heads(chat, muong_te):
    officer = chat("200")
    outside = await officer.send("/thongke Bum Nưa")
    nowhere = await officer.send("/thongke Xã Không Có")
    assert outside == "Không tìm thấy địa bàn «Bum Nưa» trong phạm vi của bạn. " \
        "Vui lòng gõ lại tên xã hoặc thôn."
    assert nowhere.replace("Xã Không Có", "Bum Nưa") == outside
    assert "chỉ dành cho cán bộ" in await chat("100").send("/thongke")
    province = chat("300")
    assert "📊 Xã Bum Nưa" in await province.send("/thongke xa bum nua")


@pytest.mark.parametrize("period", ["quy 5", "2019-13", "13/2026"])
async def test_an_unparseable_period_gets_the_accepted_forms(chat, muong_te, period):
    reply = await chat("300").send(f"/thongke Mường Tè {period}")
    assert reply.startswith("Không hiểu kỳ thống kê. Có thể gõ: tháng (10/2026, t10), quý")


async def test_a_period_without_data_says_so_and_sends_no_chart(chat, muong_te):
    officer = chat("200")
    reply = await officer.send("/thongke 2019")
    assert "Chưa có số liệu của Xã Mường Tè cho năm 2019." in reply
    await officer.press("Tỷ lệ nghèo theo tháng")
    assert all(m.image is None for m in officer.last)
    assert "Chưa có số liệu của Xã Mường Tè cho năm 2019." in officer.text


async def test_statistics_do_not_hold_the_write_lock(db, cfg, clock, muong_te):
    core = Core(db, cfg, clock)
    seen = []

    class Renderer:
        async def render(self, kind, data):
            seen.append(db._lock.locked())
            return b"\x89PNG"

        def close(self):
            pass

    core.stats._renderer = Renderer()
    officer = Chat(core, "200")
    await officer.send("/thongke")
    await officer.press("Xếp hạng")
    assert seen == [False]  # the chart was drawn after the transaction
    core.close()


async def test_statistics_start_after_the_dialogs_writes_have_settled(db, stats, muong_te,
                                                                     monkeypatch):
    # A village head's message is being written: a summary asked for meanwhile starts only
    # once that transaction has committed (its Python work would lengthen every database
    # trip of the transaction, and of every message queued behind it).
    period = Period.of_month(Month(2026, 10))
    async with db.write():
        asked = asyncio.ensure_future(stats.summary(muong_te.commune, period))
        await asyncio.sleep(0.05)
        assert not asked.done()
    summary = await asked
    assert summary is not None and summary.now.poor == 26
    # A steady stream of writes cannot hold statistics up for more than WRITES_SETTLE_S.
    monkeypatch.setattr(stats_module, "WRITES_SETTLE_S", 0.05)
    async with db.write():
        started = asyncio.get_running_loop().time()
        summary = await asyncio.wait_for(stats.summary(muong_te.commune, period), 2)
        waited = asyncio.get_running_loop().time() - started
    assert summary is not None and 0.05 <= waited < 1.0


async def test_another_command_ends_the_statistics_menu(chat, muong_te):
    officer = chat("200")
    await officer.send("/thongke")
    reply = await officer.send("/lich")
    assert "Lịch báo cáo" in reply and "đang làm dở" not in reply


async def test_household_list_only_for_the_officers_area(chat, db, muong_te, clock):
    async with db.write() as conn:
        for village, code, name in ((muong_te.far_village, "X1", "Hộ Xa"),
                                    (muong_te.village, "N1", "Hộ Gần")):
            await households.add_household(conn, village_id=village.id, code=code,
                                           head_name=name, status="poor",
                                           status_since=date(2025, 1, 1), actor=SETUP,
                                           at=clock())
    officer = chat("200")
    await officer.send("/thongke")
    await officer.press("Danh sách hộ")
    [sheet] = [m for m in officer.last if m.document is not None]
    cells = {c.value for row in load_workbook(io.BytesIO(sheet.document)).active.iter_rows()
             for c in row}
    assert "Hộ Gần" in cells and "Hộ Xa" not in cells


async def test_targets_are_inherited_and_ethnic_minority_areas_aim_faster(db, cfg, clock, world,
                                                                           tmp_path):
    from common.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text('[[targets.areas]]\narea = "12"\npoints_per_year = 3.0\n'
                    '[[targets.areas]]\narea = "Xã Mường Tè"\nethnic_minority = true\n',
                    encoding="utf-8")
    stats = StatsService(db, replace(cfg, targets=load_config(path, env={}).targets),
                         clock=clock)
    await stats.resolve()
    factor = stats.config.targets.ethnic_minority_factor
    assert (await stats.target(world.village)).effective(factor) == 4.5  # 3.0 × 1.5
    assert (await stats.target(world.far_village)).effective(factor) == 3.0
    assert (await stats.target(world.province)).effective(factor) == 3.0
    path.write_text('[[targets.areas]]\narea = "Xã Không Có"\npoints_per_year = 2\n',
                    encoding="utf-8")
    wrong = StatsService(db, replace(cfg, targets=load_config(path, env={}).targets),
                         clock=clock)
    with pytest.raises(ConfigError, match=r"targets.areas\[0\].area: 'Xã Không Có' matches no"):
        await wrong.resolve()


# ---- a village's own statistics (issue 11, item 1) ----------------------------------------


async def test_a_villages_summary_is_its_own_figures_without_child_rows(stats, muong_te):
    period = Period.of_month(Month(2026, 10))
    s = await stats.summary(muong_te.village, period)
    assert (s.now.total, s.now.poor, s.now.near_poor) == (121, 15, 9)
    assert s.villages == 1 and s.reported_this_month == 1 and s.children == []
    assert round(s.start.poor_rate, 2) == 15.00  # 18 of 120 at the end of 2025
    assert s.baseline.poor_and_near == 42
    assert (s.reports.on_time, s.reports.late, s.reports.missing) == (1, 0, 0)
    assert s.support_vnd == 5_000_000
    pa_u = await stats.summary(muong_te.village2, period)  # carried from September
    assert (pa_u.now.total, pa_u.now.poor, pa_u.reported_this_month) == (80, 11, 0)
    assert (pa_u.reports.on_time, pa_u.reports.late, pa_u.reports.missing) == (0, 0, 1)


async def test_a_villages_charts_are_its_own_months(stats, muong_te):
    period = Period.of_month(Month(2026, 10))
    trend = await stats.chart_data("trend", muong_te.village, period)
    rates = dict(zip(trend.months, trend.rates, strict=True))
    assert round(rates["2025-12"], 2) == 15.00 and round(rates["2026-10"], 2) == 12.40
    baseline = await stats.chart_data("baseline", muong_te.village, period)
    assert baseline.baseline == 42 and baseline.counts[-1] == 24
    assert await stats.chart("trend", muong_te.village, period) is not None


async def test_a_villages_sheets_are_its_own_rows(stats, muong_te):
    period = Period("quarter", 2026, 4)
    monthly, _ = await stats.sheet("monthly", muong_te.village, period)
    rows = [[c.value for c in row] for ws in load_workbook(io.BytesIO(monthly)).worksheets
            for row in ws.iter_rows()]
    assert ["Bản Nà Khan", 121, 15] == [rows[7][1], rows[7][2], rows[7][3]]
    summary, _ = await stats.sheet("summary", muong_te.village, period)
    ws = load_workbook(io.BytesIO(summary)).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=8)]
    assert len(values) == 1 and values[0][:3] == ["Bản Nà Khan", 121, 15]


async def test_an_officer_gets_a_villages_statistics_in_chat(chat, muong_te):
    officer = chat("200")
    reply = await officer.send("/thongke ban na khan")
    assert "sự cố" not in reply
    assert "📊 Bản Nà Khan — tháng 10/2026" in reply and "• Hộ nghèo: 15 (12,40 %)" in reply
    options = officer.options()
    # Charts of child areas have nothing to show for a village: not offered.
    assert not any("Xếp hạng" in o or "Giảm nghèo năm nay" in o or "Tiến độ" in o
                   for o in options)
    for label in [o for o in options if "Xong" not in o]:
        reply = await officer.press(label)
        assert "sự cố" not in reply, label
        await officer.send("/thongke ban na khan")


# ---- one computation for the chat, the charts and the spreadsheets (issue 11, item 3) ------


def _cells(document: bytes) -> list[list[list]]:
    """Every sheet of a workbook as rows of values."""
    return [[[c.value for c in row] for row in ws.iter_rows()]
            for ws in load_workbook(io.BytesIO(document)).worksheets]


async def test_the_monthly_sheet_counts_a_village_that_has_not_filed_as_the_summary_does(
        stats, muong_te):
    period = Period.of_month(Month(2026, 10))
    s = await stats.summary(muong_te.commune, period)
    [rows] = _cells((await stats.sheet("monthly", muong_te.commune, period))[0])
    by_village = {r[1]: r for r in rows if r[0] == "Xã Mường Tè"}
    # Pa Ủ has not filed October: its September report counts, and the sheet says so.
    pa_u = by_village["Bản Pa Ủ"]
    assert pa_u[2:5] == [80, 11, 13.75] and pa_u[14] == "Chưa gửi — dùng số liệu tháng 9/2026"
    assert pa_u[7:10] == [None, None, None] and pa_u[12] is None  # no flows, no support
    total = next(r for r in rows if r[0] == "Tổng cộng")
    assert (total[2], total[3], total[5]) == (s.now.total, s.now.poor, s.now.near_poor)
    assert total[4] == round(s.now.poor_rate, 2) and total[12] == s.support_vnd
    assert "1 thôn chưa gửi được tính bằng số liệu tháng gần nhất" in rows[4][0]


async def test_the_villages_not_yet_filed_are_named_in_alphabetical_order(stats, muong_te,
                                                                          db, clock):
    async with db.write() as conn:  # added last (its path sorts last), first by name
        ang = await areas.add_area(conn, parent=muong_te.commune, level="village",
                                   name="Bản Ẳng", actor=SETUP, at=clock())
    await history(db, [(ang, "2026-09", figures(40, 4, 2)), (muong_te.village, "2026-09",
                                                              figures(120, 16, 9))])
    s = await stats.summary(muong_te.commune, Period.of_month(Month(2026, 10)))
    assert [name for name, _ in s.carried_villages] == ["Bản Ẳng", "Bản Pa Ủ"]


async def test_the_summary_sheet_and_the_chat_mark_carried_figures(stats, muong_te, chat):
    period = Period.of_month(Month(2026, 10))
    [rows] = _cells((await stats.sheet("summary", muong_te.commune, period))[0])
    by_name = {r[0]: r for r in rows[7:]}
    assert by_name["Bản Pa Ủ"][-1] == "chưa gửi — dùng số liệu tháng 9/2026"
    assert by_name["Bản Nà Khan"][-1] is None
    assert by_name["Tổng cộng"][-1] == "1 thôn chưa gửi tháng 10/2026 — dùng số liệu tháng 9/2026"
    reply = await chat("200").send("/thongke")
    assert "• 1 thôn chưa gửi tháng 10/2026 — dùng số liệu tháng 9/2026: Bản Pa Ủ." in reply
    reply = await chat("200").send("/thongke Pa U")
    assert "• Báo cáo tháng 10/2026: chưa gửi — dùng số liệu tháng 9/2026" in reply


# ---- periods as officers write them (issue 11, item 15) -------------------------------------


async def test_a_quarter_written_out_in_words_is_a_quarter(chat, muong_te):
    reply = await chat("200").send("/thongke quý 3 năm 2026")
    assert reply.startswith("📊 Xã Mường Tè — quý 3/2026 (số liệu tháng 9/2026")
    reply = await chat("300").send("/thongke Mường Tè quý III/2026")
    assert reply.startswith("📊 Xã Mường Tè — quý 3/2026")


async def test_a_year_not_over_says_how_far_its_figures_go(chat, muong_te, clock):
    clock.set_local("2026-12-03 09:00")  # November's reports are coming in
    officer = chat("200")
    reply = await officer.send("/thongke 2026")
    assert reply.startswith("📊 Xã Mường Tè — năm 2026 (đến tháng 11/2026), tính đến 03/12/2026")
    assert "📊 Xã Mường Tè — năm 2026 (đến tháng 11/2026). Chọn biểu đồ" in officer.text
    reply = await officer.send("năm nay")
    assert reply.startswith("📊 Xã Mường Tè — năm 2026 (đến tháng 11/2026)")
    reply = await officer.send("tháng 12/2026")  # the month under way
    assert reply.startswith("📊 Xã Mường Tè — tháng 12/2026 (đến ngày 03/12/2026), tính đến")
    reply = await officer.send("năm 2025")  # over: as it stood at its end
    assert reply.startswith("📊 Xã Mường Tè — năm 2025 (số liệu tháng 12/2025")


# ---- never a list cut without a word (issue 11, item 13) -----------------------------------


async def test_many_matching_areas_are_offered_page_by_page_and_the_rest_is_counted(
        chat, muong_te, db, clock):
    async with db.write() as conn:
        for i in range(1, 26):
            await areas.add_area(conn, parent=muong_te.commune, level="village",
                                 name=f"Bản Tân {i:02d}", actor=SETUP, at=clock())
    officer = chat("200")
    reply = await officer.send("/thongke ban tan")
    assert "25 địa bàn khớp «ban tan»" in reply and "1–10" in reply
    areas_shown = [o for o in officer.options() if o.startswith("Bản Tân")]
    assert areas_shown == [f"Bản Tân {i:02d}" for i in range(1, 11)]
    assert "➡️ Xem thêm (còn 15)" in officer.options()
    reply = await officer.press("Xem thêm")
    assert "11–20" in reply
    assert [o for o in officer.options() if o.startswith("Bản Tân")][0] == "Bản Tân 11"
    await officer.press("Xem thêm")
    assert [o for o in officer.options() if o.startswith("Bản Tân")][-1] == "Bản Tân 25"
    assert not any("Xem thêm" in o for o in officer.options())
    reply = await officer.press("Bản Tân 23")
    assert "Chưa có số liệu của Bản Tân 23" in reply


async def test_a_search_matching_too_many_areas_asks_for_more_of_the_name(chat, muong_te, db,
                                                                          clock):
    from handlers import menu as dialog

    async with db.write() as conn:
        for i in range(dialog.AREA_SEARCH_LIMIT + 5):
            await areas.add_area(conn, parent=muong_te.commune, level="village",
                                 name=f"Thôn Mới {i:03d}", actor=SETUP, at=clock())
    reply = await chat("200").send("/thongke thon moi")
    assert f"Có hơn {dialog.AREA_SEARCH_LIMIT} địa bàn khớp «thon moi»" in reply
    assert "gõ thêm tên" in reply


# ---- an option without data says why (issue 11: no option that leads nowhere) --------------


async def test_a_chart_or_sheet_without_data_says_what_is_missing(chat, db, world):
    await history(db, [(world.village, "2025-12", figures(120, 18, 10)),
                       (world.village, "2026-10", figures(121, 15, 9))])
    officer = chat("200")
    await officer.send("/thongke")
    await officer.press("So với gốc")
    assert ("Chưa có số liệu gốc (cuối năm 2021) của Xã Mường Tè, nên chưa so sánh được với "
            "gốc.") in officer.text
    await officer.press("Đăng ký thoát nghèo")
    assert "Xã Mường Tè chưa có hộ nào đăng ký thoát nghèo trong năm 2026." in officer.text
    await officer.press("Danh sách hộ")
    assert "Xã Mường Tè chưa có danh sách hộ trong hệ thống" in officer.text
    await officer.press("Danh sách đăng ký")
    assert "Xã Mường Tè chưa có hộ nào đăng ký thoát nghèo." in officer.text
    await officer.send("2025")
    await officer.press("Giảm nghèo năm nay")
    assert ("Chưa có số liệu cuối năm 2024 của các nơi thuộc Xã Mường Tè, nên chưa tính được "
            "mức giảm năm 2025.") in officer.text


async def test_candidates_without_a_baseline_say_which_rule_cannot_be_judged(chat, db, world):
    await history(db, [(world.village, "2025-12", figures(120, 18, 10)),
                       (world.village, "2026-10", figures(121, 15, 9))])
    officer = chat("200")
    await officer.send("/thongke")
    await officer.press("Đề xuất khen thưởng")
    assert ("Chưa có số liệu gốc (cuối năm 2021), nên chưa xét được tiêu chí giảm trên 50 % "
            "so với gốc.") in officer.text


# ---- one order of areas in every sheet and chart (wave 2, item 2) --------------------------


async def test_every_sheet_lists_areas_in_one_order_alphabetical_the_vietnamese_way(
        stats, db, muong_te, clock):
    """Communes, then villages, by name with diacritics folded and numbers in their order:
    the monthly sheet, the summary, the household and the registration lists agree (they
    listed villages in the order they were added, or as SQLite sorts text)."""
    at = clock()
    async with db.write() as conn:
        added = [await areas.add_area(conn, parent=muong_te.commune, level="village",
                                      name=name, actor=SETUP, at=at)
                 for name in ("Tổ dân phố 10", "Tổ dân phố 9", "Bản Đông")]
        for n, village in enumerate([*added, muong_te.village, muong_te.village2]):
            (house,) = await households.add_households(
                conn, village.id, [households.NewHousehold(
                    f"H-{n}", "Lò Văn A", "poor", True, False, False, False)],
                status_since=date(2025, 1, 1), actor=SETUP, at=at)
            await households.register_exit(
                conn, house.id, target_year=2026, plan_kind="crops", plan_text="",
                support_asked=(), registered_on=date(2026, 3, 1), actor=SETUP, at=at)
    await history(db, [(v, "2026-10", figures(100, 10, 5)) for v in added])
    villages = ["Bản Đông", "Bản Nà Khan", "Bản Pa Ủ", "Tổ dân phố 9", "Tổ dân phố 10"]
    period = Period.of_month(Month(2026, 10))

    def column(document: bytes, index: int, first: int) -> list:
        [rows] = _cells(document)
        return [r[index] for r in rows[first:] if r[index] not in (None, "Tổng cộng")]

    monthly = (await stats.sheet("monthly", muong_te.commune, period))[0]
    assert column(monthly, 1, 7)[:-1] == villages  # the last is the total's "5/5 thôn"
    summary = (await stats.sheet("summary", muong_te.commune, period))[0]
    assert column(summary, 0, 7) == villages
    for kind in ("households", "registrations"):
        listed = (await stats.sheet(kind, muong_te.commune, period))[0]
        assert column(listed, 2, 5)[1:-1] == villages, kind  # under the header, above the count
    province = (await stats.sheet("monthly", muong_te.province, period))[0]
    [rows] = _cells(province)
    assert [r[0] for r in rows[7:] if r[0] and r[0].startswith("Cộng")] == [
        "Cộng Xã Bum Nưa", "Cộng Xã Mường Tè"]
    assert [r[1] for r in rows[7:] if r[0] == "Xã Mường Tè"] == villages


# ---- spreadsheets are built off the event loop (wave 2, item 1) -----------------------------


async def test_other_chats_are_answered_while_a_big_spreadsheet_is_built(db, config, clock,
                                                                         world):
    """An officer asks for the list of 4,000 households (seconds of work); meanwhile a
    village head's message is answered within 100 ms: the workbook is built in a worker
    process and its data gathered in pieces, so the event loop never stops for long."""
    async with db.write() as conn:
        for village in (world.village, world.village2):
            await households.add_households(conn, village.id, [
                households.NewHousehold(f"H-{n:04d}", f"Lò Văn {n}", "poor", True, False,
                                        False, n % 3 == 0) for n in range(2000)],
                status_since=date(2025, 1, 1), actor=SETUP, at=clock())
    core = Core(db, replace(config, stats=replace(config.stats, chart_workers=1)), clock)
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        await core.stats.renderer.start()
        tune_runtime()  # the garbage collector and GIL as the bot runs them (bot/app.py)
        officer, head = Chat(core, "200"), Chat(core, "100")
        await officer.send("/thongke")
        await head.send("/toi")
        lags: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                started = asyncio.get_running_loop().time()
                await asyncio.sleep(0.005)
                lags.append(asyncio.get_running_loop().time() - started - 0.005)

        async def head_writes() -> float:
            await asyncio.sleep(0.2)  # while the sheet is under way
            started = asyncio.get_running_loop().time()
            reply = await head.send("/toi")
            assert "Lò Văn Páo" in reply
            return asyncio.get_running_loop().time() - started

        prober = asyncio.create_task(probe())
        sheet = asyncio.create_task(officer.press("Danh sách hộ"))
        answered = await head_writes()
        assert not sheet.done()  # the head was answered while the sheet was being built
        await sheet
        done.set()
        await prober
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
        core.close()
    (document,) = [m for m in officer.last if m.document]
    rows = list(load_workbook(io.BytesIO(document.document)).active.iter_rows(values_only=True))
    assert rows[-1][2] == "4.000 hộ" and len(rows) == 6 + 4000 + 1
    assert answered < 0.1, answered
    assert max(lags) < 0.1, max(lags)


async def test_a_rate_that_rose_says_so_and_changes_have_a_real_minus_sign(db, world, chat):
    """«giảm -2,00 điểm» said the opposite of what happened; «(-57,50 %)» used a hyphen
    where the menu («So với gốc (−50 %)») and the charts write a minus sign."""
    await history(db, [(world.village, "2021-12", figures(100, 30, 10)),
                       (world.village, "2025-12", figures(100, 10, 5)),
                       (world.village, "2026-10", figures(100, 12, 5))])
    reply = await chat("200").send("/thongke ban na khan")
    assert "• Từ đầu năm (tỷ lệ nghèo 10,00 %): tăng 2,00 điểm; mục tiêu 1,50 điểm/năm, " \
        "đạt 0 %" in reply
    assert "giảm 18,00 điểm; hộ nghèo + cận nghèo 17 so với 40 (−57,50 %)" in reply


async def test_a_long_spreadsheet_read_lets_other_questions_go_between_its_pieces(
        stats, db, muong_te, clock, monkeypatch):
    """Questions take the read connection one at a time; a household list read in pieces
    gives way between them, so an officer's summary is not held up by a province's list."""
    async with db.write() as conn:
        villages = [await areas.add_area(conn, parent=muong_te.commune, level="village",
                                         name=f"Thôn {n}", actor=SETUP, at=clock())
                    for n in range(1, 31)]
        for village in villages:
            await households.add_households(conn, village.id, [households.NewHousehold(
                f"H-{village.id}", "Lò Văn A", "poor", True, False, False, False)],
                status_since=date(2025, 1, 1), actor=SETUP, at=clock())
    real = stats_module.store.households_of
    order = []

    async def slow_read(conn, village_ids):
        await asyncio.sleep(0.05)  # a big province: each piece takes a while to read
        order.append("piece")
        return await real(conn, village_ids)

    monkeypatch.setattr(stats_module.store, "households_of", slow_read)
    period = Period.of_month(Month(2026, 10))
    sheet = asyncio.create_task(stats.sheet_data("households", muong_te.province, period))
    await asyncio.sleep(0.01)  # the list has started
    summary = await stats.summary(muong_te.commune, period)
    order.append("summary")
    data = await sheet
    assert summary is not None and len(data.households) == 30
    assert order.index("summary") < len(order) - 1, order  # answered before the list's end

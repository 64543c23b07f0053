"""Tests for reports/charts.py: what each chart plots (read back from the figure's artists, not
its pixels), the readings, the PNG, and the renderer's pool and cache."""

from __future__ import annotations

import ast
import asyncio
import io
import logging
import math
import struct
import threading
import unicodedata
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from reports import charts
from reports.charts import (
    KINDS,
    MAX_ROWS,
    ChartRenderer,
    build_baseline,
    build_completeness,
    build_funnel,
    build_ranking,
    build_reduction,
    build_trend,
    has_data,
    reading,
    reading_baseline,
    reading_completeness,
    reading_funnel,
    reading_ranking,
    reading_reduction,
    reading_trend,
    render_png,
)
from reports.figures import (
    BaselineData,
    Carried,
    ChildCompleteness,
    ChildReduction,
    CompletenessData,
    FunnelData,
    RankingData,
    RankingRow,
    ReductionData,
    TrendData,
)

AS_OF = date(2026, 11, 5)
AREA = "Xã Nậm Khắt"

TREND = TrendData(
    area=AREA, as_of=AS_OF,
    months=("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"),
    rates=(12.4, 12.1, None, 11.6, 11.2, None),
    target=(12.4, 12.15, 11.9, 11.65, 11.4, 11.15),
    target_points=3.0,
)
REDUCTION = ReductionData(AREA, AS_OF, 2026, (
    ChildReduction("Bản A", 3.5, 3.0),  # met, 0.5 ahead
    ChildReduction("Bản B", 1.0, 3.0),  # 2.0 behind
    ChildReduction("Bản C", None, 3.0),  # no data
    ChildReduction("Bản D", 5.0, 4.5),  # met (an ethnic-minority target, 1.5 × 3.0), 0.5 ahead
    ChildReduction("Bản E", -0.4, 2.0),  # rose: 2.4 behind
))
BASELINE = BaselineData(AREA, AS_OF, "cuối năm 2021", 1000,
                        ("2026-07", "2026-08", "2026-09", "2026-10"), (980, 900, None, 620))
COMPLETENESS = CompletenessData(AREA, AS_OF, "tháng 10/2026", (
    ChildCompleteness("Thôn A", 8, 2, 2),
    ChildCompleteness("Thôn B", 5, 0, 0),
    ChildCompleteness("Thôn C", 0, 1, 3),
    ChildCompleteness("Thôn D", 0, 0, 0),
))
FUNNEL = FunnelData(AREA, AS_OF, registered=120, under_review=30, recognised=54, not_yet=12,
                    withdrawn=6)
RANKING = RankingData("Tỉnh Lào Cai", AS_OF, 2026, (
    RankingRow("Xã A", 2.0, 10.0),
    RankingRow("Xã B", 3.5, 8.0),
    RankingRow("Xã C", 2.0, 12.0),
    RankingRow("Xã D", None, 5.0),
    RankingRow("Xã E", -0.3, 20.0),
))
SAMPLES = {"trend": TREND, "reduction": REDUCTION, "baseline": BASELINE,
           "completeness": COMPLETENESS, "funnel": FUNNEL, "ranking": RANKING}
# Every Vietnamese vowel with every tone mark, and đ: a name that needs all of DejaVu's glyphs.
ALL_LETTERS = ("Ằ ắ ẳ ẵ ặ ầ ấ ẩ ẫ ậ ề ế ể ễ ệ ì í ỉ ĩ ị ồ ố ổ ỗ ộ ờ ớ ở ỡ ợ ừ ứ ử ữ ự "
               "ỳ ý ỷ ỹ ỵ Đ đ ơ ư — … −")


def _nan_list(values):
    return ["nan" if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for v in values]


def _rows(ax) -> list[str]:
    return [text.get_text() for text in ax.texts if text.get_gid() == "row"]


def _texts(fig: Figure) -> list[str]:
    found = [text.get_text() for text in fig.texts]
    for ax in fig.axes:
        found += [text.get_text() for text in ax.texts]
    return found


def _widths(ax) -> list[float]:
    return [round(p.get_width(), 6) for p in ax.patches]


def _title(fig: Figure) -> str:
    return fig.get_suptitle()


# ---- what each chart plots -----------------------------------------------------------------


def test_every_chart_is_a_phone_sized_figure_with_area_and_date_in_the_title():
    for kind, data in SAMPLES.items():
        fig = charts.build(kind, data)
        assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
        width, height = fig.canvas.get_width_height()
        assert (width, height) == (1080, 1350), kind
        assert data.area in _title(fig) and "tính đến 05/11/2026" in _title(fig), kind


def test_trend_plots_the_rates_and_the_dashed_target_path():
    fig = build_trend(TREND)
    ax = fig.axes[0]
    rates, path = ax.lines[0], ax.lines[1]
    assert _nan_list(rates.get_ydata()) == [12.4, 12.1, "nan", 11.6, 11.2, "nan"]
    assert list(rates.get_xdata()) == [0, 1, 2, 3, 4, 5]
    assert rates.get_marker() == "o"
    assert _nan_list(path.get_ydata()) == [12.4, 12.15, 11.9, 11.65, 11.4, 11.15]
    assert path.get_linestyle() == "--"
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "T1\n2026", "T2", "T3", "T4", "T5", "T6"]
    assert "%" in ax.get_ylabel()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Tỷ lệ hộ nghèo", "Lộ trình mục tiêu (giảm 3,00 điểm/năm)"]
    assert "Tỷ lệ hộ nghèo theo tháng" in _title(fig)
    assert "11,20 %" in _texts(fig)  # the last rate is written by its point


def test_trend_month_axis_keeps_at_most_thirteen_labels_and_marks_each_year():
    months = tuple(f"{year}-{month:02d}" for year in (2025, 2026) for month in range(1, 13))
    data = TrendData(AREA, AS_OF, months, tuple(12 - i / 10 for i in range(24)),
                     (None,) * 24, 1.5)
    labels = [label.get_text() for label in build_trend(data).axes[0].get_xticklabels()]
    assert labels == ["T1\n2025", "T3", "T5", "T7", "T9", "T11",
                      "T1\n2026", "T3", "T5", "T7", "T9", "T11"]


def test_reduction_bars_are_this_years_fall_best_first_with_each_target():
    fig = build_reduction(REDUCTION)
    ax = fig.axes[0]
    # Best first, at the top (as on the ranking): D 5.0, A 3.5, B 1.0, E −0.4, C no data.
    assert _rows(ax) == ["Bản D", "Bản A", "Bản B", "Bản E", "Bản C"]
    assert _widths(ax) == [5.0, 3.5, 1.0, -0.4, 0.0]
    assert [round(p.get_y() + p.get_height() / 2, 6) for p in ax.patches] == [0, 1, 2, 3, 4]
    targets = ax.lines[0]
    assert list(targets.get_xdata()) == [4.5, 3.0, 3.0, 2.0, 3.0]
    assert list(targets.get_ydata()) == [0, 1, 2, 3, 4]
    green, orange, grey = to_hex(charts.GREEN), to_hex(charts.ORANGE), to_hex(charts.GREY)
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [green, green, orange, orange,
                                                                grey]
    values = [text.get_text() for text in ax.texts if text.get_gid() == "value"]
    assert values == ["5,00", "3,50", "1,00", "−0,40", "chưa có số liệu"]
    assert "năm 2026" in _title(fig)


def test_reduction_target_met_exactly_counts_as_met():
    data = ReductionData(AREA, AS_OF, 2026, (ChildReduction("Bản A", 3.3, 3.3),))
    ax = build_reduction(data).axes[0]
    assert to_hex(ax.patches[0].get_facecolor()) == to_hex(charts.GREEN)


def test_baseline_bars_with_the_baseline_and_the_minus_50_percent_line():
    fig = build_baseline(BASELINE)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [980, 900, 0, 620]
    baseline, half = ax.lines
    assert list(baseline.get_ydata()) == [1000, 1000]
    assert list(half.get_ydata()) == [500, 500] and half.get_linestyle() == "--"
    assert "−50 %" in _texts(fig)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Hộ nghèo + cận nghèo", "Gốc cuối năm 2021: 1.000 hộ",
                      "Mốc giảm 50 % so với gốc: 500 hộ"]
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > 1000
    assert "gốc cuối năm 2021" in _title(fig)


def test_completeness_stacks_on_time_late_missing_best_first():
    fig = build_completeness(COMPLETENESS)
    ax = fig.axes[0]
    # Share on time: B 5/5, A 8/12, C 0/4 (1 late); D has no reports due and comes last.
    assert _rows(ax) == ["Thôn B", "Thôn A", "Thôn C", "Thôn D"]
    on_time, late, missing = ax.containers
    assert [p.get_width() for p in on_time] == [5, 8, 0, 0]
    assert [p.get_width() for p in late] == [0, 2, 1, 0]
    assert [p.get_x() for p in late] == [5, 8, 0, 0]
    assert [p.get_width() for p in missing] == [0, 2, 3, 0]
    assert [p.get_x() for p in missing] == [5, 10, 1, 0]
    assert [text.get_text() for text in ax.texts if text.get_gid() == "value"] == [
        "5/5", "10/12", "1/4", "0/0"]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Đúng hạn", "Gửi muộn", "Chưa gửi"]
    assert "tháng 10/2026" in _title(fig)


def test_funnel_narrows_from_registered_to_recognised_with_the_side_outcomes():
    fig = build_funnel(FUNNEL)
    ax = fig.axes[0]
    # registered 120; reached review = under review 30 + recognised 54 + not yet 12 = 96.
    assert _widths(ax) == [120, 96, 54, 12, 6]
    assert [p.get_x() for p in ax.patches] == [0, 12, 33, 54, 57]  # centred
    texts = _texts(fig)
    assert "120 hộ · 100 %" in texts and "96 hộ · 80 %" in texts and "54 hộ · 45 %" in texts
    assert "Còn 18 hộ đã đăng ký nhưng chưa được đưa ra xem xét." in texts


def test_ranking_is_best_first_with_shared_ranks_and_the_rate_now():
    fig = build_ranking(RANKING)
    ax = fig.axes[0]
    assert _rows(ax) == ["1. Xã B", "2. Xã A", "2. Xã C", "4. Xã E", "Xã D"]
    assert _widths(ax) == [3.5, 2.0, 2.0, -0.3, 0.0]
    assert [text.get_text() for text in ax.texts if text.get_gid() == "rate"] == [
        "8,00 %", "10,00 %", "12,00 %", "20,00 %", "5,00 %"]
    assert [text.get_text() for text in ax.texts if text.get_gid() == "value"] == [
        "3,50", "2,00", "2,00", "−0,30", "chưa có số liệu"]
    bold = [text.get_fontweight() for text in ax.texts if text.get_gid() == "row"]
    assert bold == ["bold", "bold", "bold", "normal", "normal"]
    assert to_hex(ax.patches[3].get_facecolor()) == to_hex(charts.VERMILION)  # it rose


def test_many_child_areas_show_the_best_and_the_worst_and_say_how_many_are_between():
    children = tuple(ChildReduction(f"Thôn số {i:02d} có một cái tên rất là dài", i / 10, 3.0)
                     for i in range(40))
    fig = build_reduction(ReductionData(AREA, AS_OF, 2026, children))
    ax = fig.axes[0]
    rows = _rows(ax)
    # The best first, the worst last (those officers chase are never left out), and a row
    # between them that says how many are not drawn.
    assert len(rows) == MAX_ROWS == 25 and len(ax.patches) == 24
    assert rows[0].startswith("Thôn số 39") and rows[-1].startswith("Thôn số 00")
    assert rows[15].startswith("Thôn số 24") and rows[17].startswith("Thôn số 07")
    assert rows[16] == "⋯ 16 nơi khác ⋯"
    assert all(row.endswith("…") for i, row in enumerate(rows) if i != 16)
    assert ("… 16 nơi xếp giữa không hiện trên biểu đồ; đủ cả trong «Excel tổng hợp»"
            in _texts(fig))
    ranking = build_ranking(RankingData(AREA, AS_OF, 2026, tuple(
        RankingRow(f"Xã {i:02d}", i / 10, 5.0) for i in range(30))))
    rows = _rows(ranking.axes[0])
    assert rows[0] == "1. Xã 29" and rows[-1] == "30. Xã 00" and rows[16] == "⋯ 6 nơi khác ⋯"


def test_legends_list_only_what_the_chart_shows():
    all_met = ReductionData(AREA, AS_OF, 2026, (ChildReduction("Bản A", 3.5, 3.0),
                                                ChildReduction("Bản B", 3.0, 3.0)))
    legend = build_reduction(all_met).axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["Đạt mục tiêu",
                                                                 "Mục tiêu cả năm"]
    no_late = CompletenessData(AREA, AS_OF, "tháng 10/2026", (ChildCompleteness("Xã A", 8, 0, 2),
                                                              ChildCompleteness("Xã B", 5, 0, 0)))
    legend = build_completeness(no_late).axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["Đúng hạn", "Chưa gửi"]


def test_one_report_per_row_says_each_ones_state_without_a_count_axis():
    villages = CompletenessData(AREA, AS_OF, "tháng 11/2026", (
        ChildCompleteness("Bản Nà Khan", 0, 0, 1), ChildCompleteness("Bản Phìn Khò", 1, 0, 0),
        ChildCompleteness("Bản Huổi Sâu", 0, 1, 0)))
    fig = build_completeness(villages)
    ax = fig.axes[0]
    assert _rows(ax) == ["Bản Phìn Khò", "Bản Huổi Sâu", "Bản Nà Khan"]
    assert [text.get_text() for text in ax.texts if text.get_gid() == "value"] == [
        "Đúng hạn", "Gửi muộn", "Chưa gửi"]
    assert not ax.xaxis.get_visible()  # no 0–1 axis
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "Đúng hạn", "Gửi muộn", "Chưa gửi"]


def test_a_funnel_stage_with_nobody_is_labelled_in_the_middle():
    fig = build_funnel(FunnelData(AREA, AS_OF, registered=12, under_review=3, recognised=1,
                                  not_yet=0, withdrawn=0))
    ax = fig.axes[0]
    zeros = [text for text in ax.texts
             if text.get_gid() == "value" and text.get_text() == "0 hộ · 0 %"]
    assert len(zeros) == 2
    assert all(text.get_position()[0] == 6 and text.get_ha() == "center" for text in zeros)


def test_carried_figures_are_marked_on_every_chart_that_shows_them():
    carried = Carried("2026-11", 2, 5, "2026-10", "2026-10")
    note = "* 2 thôn chưa gửi tháng 11/2026 — dùng số liệu tháng 10/2026"
    trend = replace(TREND, rates=(12.4, 12.1, None, 11.6, 11.2, 11.0), carried=carried)
    fig = build_trend(trend)
    assert note in _texts(fig) and "11,00 %*" in _texts(fig)
    hollow = fig.axes[0].lines[-1]  # the last month's marker
    assert list(hollow.get_xdata()) == [5] and hollow.get_markerfacecolor() == "white"
    assert reading_trend(trend).endswith(
        " Lưu ý: 2 thôn chưa gửi tháng 11/2026 — dùng số liệu tháng 10/2026.")
    baseline = replace(BASELINE, carried=carried)
    fig = build_baseline(baseline)
    assert note in _texts(fig) and "620*" in _texts(fig)
    assert fig.axes[0].patches[-1].get_hatch() == "//"
    one = Carried("2026-11", 1, 1, "2026-09", "2026-09", village=True)
    commune = Carried("2026-11", 1, 2, "2026-09", "2026-09")
    note = "* 1 thôn chưa gửi tháng 11/2026 — dùng số liệu tháng 9/2026"
    reduction = ReductionData(AREA, AS_OF, 2026, (ChildReduction("Bản A", 3.5, 3.0),
                                                  ChildReduction("Bản B", 1.0, 3.0, one)),
                              carried=commune)
    fig = build_reduction(reduction)
    assert _rows(fig.axes[0]) == ["Bản A", "Bản B *"]
    assert note in _texts(fig)
    assert reading_reduction(reduction).endswith(f" Lưu ý: {note[2:]}.")
    ranking = RankingData(AREA, AS_OF, 2026, (RankingRow("Bản A", 3.5, 9.0, one),
                                              RankingRow("Bản B", 1.0, 8.0)), carried=commune)
    fig = build_ranking(ranking)
    assert _rows(fig.axes[0]) == ["1. Bản A *", "2. Bản B"]
    assert note in _texts(fig)
    village = replace(BASELINE, area="Bản B", carried=one)  # a village's own chart
    assert "* T11/26: chưa gửi — dùng số liệu tháng 9/2026" in _texts(build_baseline(village))
    assert reading_baseline(village).endswith(
        " Lưu ý: tháng 11/2026 chưa gửi — dùng số liệu tháng 9/2026.")


def test_decomposed_vietnamese_is_composed_before_drawing():
    name = unicodedata.normalize("NFD", "Bản Phìn Hồ")
    data = RankingData(unicodedata.normalize("NFD", AREA), AS_OF, 2026,
                       (RankingRow(name, 1.0, 5.0),))
    fig = build_ranking(data)
    assert _rows(fig.axes[0]) == ["1. Bản Phìn Hồ"]
    assert "Xã Nậm Khắt" in _title(fig)


# ---- readings --------------------------------------------------------------------------------


def test_reading_trend_from_first_to_last_known_month_against_the_path():
    assert reading_trend(TREND) == (
        "Tỷ lệ hộ nghèo của Xã Nậm Khắt giảm từ 12,40 % (T1/26) xuống 11,20 % (T5/26), "
        "1,20 điểm; mục tiêu cả năm giảm 3,00 điểm. Đến T5/26 đã theo kịp lộ trình "
        "(mốc 11,40 %).")


def test_reading_trend_when_the_rate_rose_and_is_behind_the_path():
    data = TrendData(AREA, AS_OF, ("2026-09", "2026-10"), (10.0, 10.5), (10.0, 9.75), 3.0)
    assert reading_trend(data) == (
        "Tỷ lệ hộ nghèo của Xã Nậm Khắt tăng từ 10,00 % (T9/26) lên 10,50 % (T10/26), "
        "0,50 điểm; mục tiêu cả năm giảm 3,00 điểm. Đến T10/26 còn cao hơn lộ trình "
        "0,75 điểm (mốc 9,75 %).")


def test_reading_trend_with_one_month_and_no_path():
    data = TrendData(AREA, AS_OF, ("2026-10",), (8.125,), (None,), 4.5)
    assert reading_trend(data) == (
        "Tỷ lệ hộ nghèo của Xã Nậm Khắt là 8,12 % (T10/26); mục tiêu cả năm giảm 4,50 điểm.")


def test_reading_reduction_counts_who_met_the_target_and_names_the_best():
    assert reading_reduction(REDUCTION) == (
        "Năm 2026, 2/5 nơi thuộc Xã Nậm Khắt đã đạt mục tiêu giảm nghèo cả năm; tốt nhất là "
        "Bản D (giảm 5,00 điểm, mục tiêu 4,50 điểm). 1 nơi chưa có số liệu.")


def test_reading_baseline_says_the_fall_and_the_distance_to_minus_50_percent():
    assert reading_baseline(BASELINE) == (
        "Hộ nghèo và cận nghèo của Xã Nậm Khắt còn 620 hộ (T10/26), giảm 38,0 % so với gốc "
        "cuối năm 2021 (1.000 hộ); còn cách mốc −50 % 120 hộ.")
    reached = replace(BASELINE, counts=(980, 900, 700, 480))
    assert reading_baseline(reached) == (
        "Hộ nghèo và cận nghèo của Xã Nậm Khắt còn 480 hộ (T10/26), giảm 52,0 % so với gốc "
        "cuối năm 2021 (1.000 hộ): đã đạt mốc −50 %.")
    rose = replace(BASELINE, counts=(1000, 1020, 1050, None))
    assert reading_baseline(rose) == (
        "Hộ nghèo và cận nghèo của Xã Nậm Khắt có 1.050 hộ (T9/26), tăng 5,0 % so với gốc "
        "cuối năm 2021 (1.000 hộ); còn cách mốc −50 % 550 hộ.")


def test_reading_completeness_counts_filed_late_missing():
    assert reading_completeness(COMPLETENESS) == (
        "Báo cáo tháng 10/2026 của Xã Nậm Khắt: 16/21 đã gửi, trong đó 3 gửi muộn; 5 chưa "
        "gửi. Thiếu nhiều nhất: Thôn C (3 chưa gửi).")
    complete = CompletenessData(AREA, AS_OF, "tháng 10/2026",
                                (ChildCompleteness("Thôn A", 3, 1, 0),))
    assert reading_completeness(complete) == (
        "Báo cáo tháng 10/2026 của Xã Nậm Khắt: 4/4 đã gửi, trong đó 1 gửi muộn; 0 chưa gửi. "
        "Không nơi nào còn thiếu báo cáo.")


def test_reading_funnel():
    assert reading_funnel(FUNNEL) == (
        "Xã Nậm Khắt: 120 hộ đăng ký tự nguyện thoát nghèo, 54 hộ đã được công nhận (45 %); "
        "30 hộ đang xem xét, 12 hộ chưa đạt, 6 hộ rút đăng ký.")


def test_reading_ranking_names_the_top_three():
    assert reading_ranking(RANKING) == (
        "Dẫn đầu thi đua giảm nghèo năm 2026 ở Tỉnh Lào Cai: 1. Xã B (giảm 3,50 điểm), "
        "2. Xã A (giảm 2,00 điểm), 2. Xã C (giảm 2,00 điểm).")


def test_reading_dispatches_by_kind():
    assert reading("funnel", FUNNEL) == reading_funnel(FUNNEL)


# ---- no data -----------------------------------------------------------------------------------

EMPTY = {
    "trend": TrendData(AREA, AS_OF, ("2026-01", "2026-02"), (None, None), (12.0, 11.75), 3.0),
    "reduction": ReductionData(AREA, AS_OF, 2026, (ChildReduction("Bản A", None, 3.0),)),
    "baseline": BaselineData(AREA, AS_OF, "cuối năm 2021", 1000, ("2026-01",), (None,)),
    "completeness": CompletenessData(AREA, AS_OF, "tháng 10/2026", ()),
    "funnel": FunnelData(AREA, AS_OF, 0, 0, 0, 0, 0),
    "ranking": RankingData(AREA, AS_OF, 2026, (RankingRow("Xã A", None, 7.5),)),
}


@pytest.mark.parametrize("kind", KINDS)
def test_no_data_is_no_chart(kind):
    assert has_data(kind, SAMPLES[kind])
    empty = EMPTY[kind]
    assert not has_data(kind, empty)
    with pytest.raises(ValueError):
        charts.build(kind, empty)
    with pytest.raises(ValueError):
        render_png(kind, empty)
    assert reading(kind, empty) == f"Chưa có số liệu để vẽ biểu đồ này cho {AREA}."


def test_more_kinds_of_nothing():
    assert not has_data("reduction", ReductionData(AREA, AS_OF, 2026, ()))
    assert not has_data("ranking", RankingData(AREA, AS_OF, 2026, ()))
    assert not has_data("trend", TrendData(AREA, AS_OF, (), (), (), 3.0))
    assert not has_data("baseline", replace(BASELINE, baseline=0))
    assert not has_data("completeness", CompletenessData(
        AREA, AS_OF, "tháng 10/2026", (ChildCompleteness("Thôn A", 0, 0, 0),)))
    # Nobody filed is not "no data": it is a chart of missing reports.
    assert has_data("completeness", CompletenessData(
        AREA, AS_OF, "tháng 10/2026", (ChildCompleteness("Thôn A", 0, 0, 1),)))


def test_unknown_kind_and_wrong_data_are_refused():
    with pytest.raises(ValueError):
        has_data("pie", TREND)
    with pytest.raises(TypeError):
        render_png("trend", FUNNEL)


# ---- the PNG ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_png_decodes_at_exactly_1080_by_1350(kind):
    png = render_png(kind, SAMPLES[kind])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (1080, 1350)
    pixels = matplotlib.image.imread(io.BytesIO(png))
    assert pixels.shape[:2] == (1350, 1080)
    assert pixels.min() < pixels.max()  # not a blank image
    assert render_png(kind, SAMPLES[kind]) == png  # no timestamp: equal data, equal bytes
    assert b"tEXt" not in png and b"tIME" not in png


def test_texts_kept_from_earlier_charts_draw_the_same_image(monkeypatch):
    # Texts laid out for one chart are reused by the next (the same names, ticks, titles):
    # the image must be exactly the one drawn from scratch.
    monkeypatch.setattr(charts, "_TEXT_CACHE", type(charts._TEXT_CACHE)())
    fresh = render_png("ranking", RANKING)
    assert len(charts._TEXT_CACHE) > 10
    render_png("reduction", REDUCTION)
    assert render_png("ranking", RANKING) == fresh
    monkeypatch.setattr(charts, "TEXT_CACHE_SIZE", 5)
    render_png("completeness", COMPLETENESS)
    assert len(charts._TEXT_CACHE) == 5  # bounded: the least recently used go
    assert render_png("ranking", RANKING) == fresh


def _glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_the_glyph_check_does_catch_a_missing_glyph():
    def draw():
        fig = Figure(figsize=(2, 1), dpi=50)
        fig.text(0.1, 0.5, "中")  # a Chinese character: not in DejaVu Sans
        charts._Canvas(fig).draw()  # the canvas every chart is drawn on
    assert _glyph_warnings(draw)


def _ink(canvas) -> tuple[int, int, int, int]:
    """The bounding box (left, top, right, bottom) of the non-white pixels."""
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    rows, cols = (pixels[:, :, :3].min(axis=2) < 200).nonzero()
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


@pytest.mark.parametrize(("ha", "va", "rotation", "weight"), [
    ("left", "center", 0, "normal"), ("right", "center", 0, "bold"),
    ("center", "top", 0, "normal"), ("center", "baseline", 0, "bold"),
    ("center", "center", 90, "normal"), ("left", "bottom", 90, "bold"),
])
def test_chart_text_is_measured_and_drawn_where_matplotlib_draws_it(ha, va, rotation, weight):
    # Row labels must stay level with their bars and values end where the bar ends: the
    # chart canvas lays text out once and draws it as one bitmap, at most a pixel from where
    # Matplotlib's own Agg canvas puts each glyph, with exactly its measured size.
    text = "Thôn Nậm Khắt 12,40 % — ữ ậ Đ"
    boxes, extents = [], []
    for canvas_type in (FigureCanvasAgg, charts._Canvas):
        fig = Figure(figsize=(4, 4), dpi=charts.DPI, facecolor="white")
        canvas = canvas_type(fig)
        artist = fig.text(0.5, 0.5, text, ha=ha, va=va, rotation=rotation, fontsize=10.5,
                          fontweight=weight)
        boxes.append(_ink(canvas))
        extents.append(artist.get_window_extent(canvas.get_renderer()).bounds)
    standard, ours = boxes
    assert all(abs(a - b) <= 1 for a, b in zip(standard, ours, strict=True)), boxes
    assert extents[0] == pytest.approx(extents[1], abs=1e-6)


def test_vietnamese_text_has_every_glyph(caplog):
    names = ALL_LETTERS.split()
    samples = {
        "trend": replace(TREND, area=ALL_LETTERS),
        "reduction": ReductionData(ALL_LETTERS, AS_OF, 2026, tuple(
            ChildReduction(name * 3, i / 4, 2.0) for i, name in enumerate(names))),
        "baseline": replace(BASELINE, area=ALL_LETTERS, baseline_label="cuối năm 2021 ỹ"),
        "completeness": CompletenessData(ALL_LETTERS, AS_OF, "tháng 10/2026", tuple(
            ChildCompleteness(name * 3, i, 1, 2) for i, name in enumerate(names))),
        "funnel": replace(FUNNEL, area=ALL_LETTERS),
        "ranking": RankingData(ALL_LETTERS, AS_OF, 2026, tuple(
            RankingRow(name * 3, i / 4, 9.5) for i, name in enumerate(names))),
    }
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        for kind, data in samples.items():
            assert not _glyph_warnings(lambda k=kind, d=data: render_png(k, d)), kind
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


def test_charts_never_use_pyplot():
    source = (Path(charts.__file__)).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert not [name for name in imported if "pyplot" in name]


# ---- the renderer -----------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch):
    """Count the charts really drawn (thread mode calls the module's render_png)."""
    calls: list[str] = []
    real = charts.render_png

    def counting(kind, data):
        calls.append(kind)
        return real(kind, data)

    monkeypatch.setattr(charts, "render_png", counting)
    return calls


async def test_renderer_caches_until_the_data_changes(counted):
    renderer = ChartRenderer(workers=0)
    first = await renderer.render("funnel", FUNNEL)
    assert struct.unpack(">II", first[16:24]) == (1080, 1350)
    again = await renderer.render("funnel", replace(FUNNEL))  # equal data, another object
    assert again is first and counted == ["funnel"]
    changed = await renderer.render("funnel", replace(FUNNEL, recognised=55))
    assert changed != first and counted == ["funnel", "funnel"]
    assert renderer.renders == 2 and len(renderer) == 2


async def test_renderer_shares_one_render_between_concurrent_requests(counted):
    renderer = ChartRenderer(workers=0)
    results = await asyncio.gather(*(renderer.render("trend", TREND) for _ in range(5)))
    assert counted == ["trend"]
    assert all(result is results[0] for result in results)


async def test_a_cancelled_request_does_not_cancel_the_shared_render(monkeypatch):
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(kind, data):
        calls.append(kind)
        started.set()
        release.wait(10)
        return b"png"

    monkeypatch.setattr(charts, "render_png", slow)
    renderer = ChartRenderer(workers=0)
    first = asyncio.create_task(renderer.render("funnel", FUNNEL))
    second = asyncio.create_task(renderer.render("funnel", FUNNEL))
    await asyncio.to_thread(started.wait, 10)
    first.cancel()
    release.set()
    assert await second == b"png"
    assert first.cancelled() and calls == ["funnel"]
    assert await renderer.render("funnel", FUNNEL) == b"png" and calls == ["funnel"]


async def test_renderer_forgets_the_least_recently_used(counted):
    renderer = ChartRenderer(workers=0, cache_size=2)
    a, b, c = (replace(FUNNEL, registered=n) for n in (120, 121, 122))
    for data in (a, b, a, c):  # a is used again, so b is the oldest when c arrives
        await renderer.render("funnel", data)
    assert len(counted) == 3 and len(renderer) == 2
    await renderer.render("funnel", a)
    assert len(counted) == 3
    await renderer.render("funnel", b)
    assert len(counted) == 4


async def test_a_failed_render_is_not_cached(monkeypatch):
    outcomes = [RuntimeError("worker died"), b"png"]

    def flaky(kind, data):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(charts, "render_png", flaky)
    renderer = ChartRenderer(workers=0)
    with pytest.raises(RuntimeError):
        await renderer.render("funnel", FUNNEL)
    assert await renderer.render("funnel", FUNNEL) == b"png"
    assert renderer.renders == 2


async def test_renderer_refuses_no_data_and_wrong_data():
    renderer = ChartRenderer(workers=0)
    with pytest.raises(ValueError):
        await renderer.render("funnel", EMPTY["funnel"])
    with pytest.raises(TypeError):
        await renderer.render("trend", FUNNEL)
    assert len(renderer) == 0


async def test_renderer_with_a_real_process_pool():
    renderer = ChartRenderer(workers=1)
    try:
        png = await renderer.render("ranking", RANKING)
        assert png == render_png("ranking", RANKING)  # the worker draws what this process does
        assert await renderer.render("ranking", RANKING) is png
        other = await renderer.render("ranking", replace(RANKING, year=2025))
        assert other != png and struct.unpack(">II", other[16:24]) == (1080, 1350)
        assert renderer.renders == 2
    finally:
        renderer.close()
    # Closed, the cache still answers, and a new render starts a new pool.
    assert await renderer.render("ranking", RANKING) is png


def test_month_axis_names_the_year_under_the_first_tick_of_each_year():
    from reports.charts import _month_ticks

    months = [f"{y}-{m:02d}" for y, m in [(2025, 10), (2025, 11), (2025, 12), (2026, 1),
                                          (2026, 2)]]
    assert _month_ticks(months) == ([0, 1, 2, 3, 4], ["T10\n2025", "T11", "T12", "T1\n2026",
                                                      "T2"])
    year_ends = ["2021-12", "2022-12", "2023-12", "2024-12", "2025-12", "2026-10"]
    labels = _month_ticks(year_ends)[1]
    assert labels == ["T12\n2021", "T12\n2022", "T12\n2023", "T12\n2024", "T12\n2025",
                      "T10\n2026"]  # the baseline chart: every tick of its own year


def test_reading_completeness_names_the_villages_that_have_not_filed():
    villages = CompletenessData(AREA, AS_OF, "tháng 11/2026", tuple(
        ChildCompleteness(f"Bản {i}", *((0, 0, 1) if i % 2 else (1, 0, 0))) for i in range(24)))
    assert reading_completeness(villages) == (
        "Báo cáo tháng 11/2026 của Xã Nậm Khắt: 12/24 đã gửi, trong đó 0 gửi muộn; 12 chưa "
        "gửi. Chưa gửi: Bản 1, Bản 3, Bản 5, Bản 7, Bản 9, Bản 11, Bản 13, Bản 15, Bản 17, "
        "Bản 19 và 2 nơi khác.")


def test_ctrl_c_on_the_console_stops_the_chart_workers_without_tracebacks(demo_file, tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole process group: the bot and its chart
    workers. The workers ignore it (the bot shuts them down), so the officer sees no
    ``KeyboardInterrupt`` traceback from each of them, and none is left running."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    shutil.copyfile(demo_file, tmp_path / "demo.sqlite3")
    program = textwrap.dedent(f"""
        import pathlib, sys
        from bot.app import run
        from common.config import load_config, replace
        tmp = pathlib.Path({str(tmp_path)!r})
        config = replace(load_config(env={{}}), db_path=tmp / "real.sqlite3",
                         demo_path=tmp / "demo.sqlite3")
        sys.exit(run(config, mode="console", demo=True, person="can-bo-tinh", script=True))
    """)
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
    env.update(PYTHONPATH=str(root), PYTHONIOENCODING="utf-8")
    bot = subprocess.Popen([sys.executable, "-c", program], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           encoding="utf-8", cwd=root, env=env, start_new_session=True)
    try:
        bot.stdin.write("/thongke\n1\n")  # a chart: the workers are running
        bot.stdin.flush()
        out = ""
        while "console-out" not in out:
            line = bot.stdout.readline()
            assert line, out
            out += line
        time.sleep(0.5)  # the workers wait for more charts
        os.killpg(bot.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        _out, err = bot.communicate(timeout=60)
    finally:
        if bot.poll() is None:
            os.killpg(bot.pid, signal.SIGKILL)
            bot.wait()
    assert bot.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    deadline = time.monotonic() + 10
    while True:  # no worker outlives the bot (the group is empty)
        try:
            os.killpg(bot.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "a chart worker is still running"
        time.sleep(0.1)


def test_reading_completeness_names_every_area_tied_for_the_most_missing():
    """With several areas equally far behind, the reading names them all (never one picked
    at random), and says how many when there are more than it lists."""
    tied = CompletenessData(AREA, AS_OF, "tháng 11/2026", (
        ChildCompleteness("Xã Bum Nưa", 30, 0, 5), ChildCompleteness("Xã Mường Tè", 50, 0, 5),
        ChildCompleteness("Phường Đoàn Kết", 19, 1, 0), ChildCompleteness("Xã Pa Ủ", 9, 0, 1)))
    assert reading_completeness(tied) == (
        "Báo cáo tháng 11/2026 của Xã Nậm Khắt: 109/120 đã gửi, trong đó 1 gửi muộn; 11 chưa "
        "gửi. Thiếu nhiều nhất (5 chưa gửi mỗi nơi): Xã Bum Nưa, Xã Mường Tè.")
    many = CompletenessData(AREA, AS_OF, "tháng 11/2026", tuple(
        ChildCompleteness(f"Xã {i}", 3, 0, 2) for i in range(1, 14)))
    assert reading_completeness(many).endswith(
        "Thiếu nhiều nhất (2 chưa gửi mỗi nơi): Xã 1, Xã 2, Xã 3, Xã 4, Xã 5, Xã 6, Xã 7, "
        "Xã 8, Xã 9, Xã 10 và 3 nơi khác.")


def test_areas_tied_on_a_chart_are_in_the_one_order_of_areas():
    """Best first on every chart; areas equally good are in alphabetical order (diacritics
    folded, numbers in order), whatever order the statistics gave them in."""
    names = ["Tổ dân phố 10", "Bản Đông", "Tổ dân phố 9", "Bản Dồn"]
    expected = ["Bản Dồn", "Bản Đông", "Tổ dân phố 9", "Tổ dân phố 10"]
    reduction = ReductionData(AREA, AS_OF, 2026, tuple(
        ChildReduction(n, 1.0, 1.5) for n in names) + (ChildReduction("Bản Zô", 2.0, 1.5),))
    assert _rows(build_reduction(reduction).axes[0]) == ["Bản Zô", *expected]
    completeness = CompletenessData(AREA, AS_OF, "tháng 10/2026", tuple(
        ChildCompleteness(n, 0, 0, 1) for n in names))
    assert _rows(build_completeness(completeness).axes[0]) == expected
    ranking = RankingData(AREA, AS_OF, 2026, tuple(RankingRow(n, 1.0, 9.0) for n in names))
    assert _rows(build_ranking(ranking).axes[0]) == [f"1. {n}" for n in expected]

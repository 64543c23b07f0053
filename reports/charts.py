"""The officers' charts: PNG images sized for a phone, with a one-line reading of each.

Six kinds, one per data class of :mod:`reports.figures`:

=============  ====================  =========================================================
kind           data                  what it shows
=============  ====================  =========================================================
trend          TrendData             poverty rate by month, with the dashed target path
reduction      ReductionData         points fallen this year by child area, against each target
baseline       BaselineData          poor + near-poor households against the baseline and −50 %
completeness   CompletenessData      reports on time / late / missing by child area
funnel         FunnelData            voluntary exit registrations: registered → review → exited
ranking        RankingData           the emulation leaderboard of child areas, best first
=============  ====================  =========================================================

For each kind ``build_<kind>(data)`` draws a :class:`matplotlib.figure.Figure` (never pyplot:
no global state, safe in a server) and ``reading_<kind>(data)`` says in one Vietnamese sentence
what the chart shows, computed from the same data. :func:`has_data` tells whether there is
anything to draw at all (the caller then answers "no data" rather than send an empty chart);
the builders raise ``ValueError`` when there is not. :func:`render_png` turns data into PNG
bytes and is picklable, so :class:`ChartRenderer` runs it in a process pool, off the event
loop, and keeps the bytes in an LRU cache keyed by the (frozen, hashable) data: a chart is
rendered again only when the data it shows changes.

Every text on a chart comes from :mod:`common.catalogue`. Everything but
:class:`ChartRenderer` is pure: bytes from data, no I/O.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import multiprocessing
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from common.catalogue import t
from common.numbers import format_count
from reports import sheets
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
    month_label,
    name_key,
)
from reports.worker import init_worker

logger = logging.getLogger(__name__)

TREND, REDUCTION, BASELINE = "trend", "reduction", "baseline"
COMPLETENESS, FUNNEL, RANKING = "completeness", "funnel", "ranking"
KINDS = (TREND, REDUCTION, BASELINE, COMPLETENESS, FUNNEL, RANKING)

# A portrait image a phone shows full-width without scaling up: 1080 × 1350 px (4:5).
WIDTH_IN, HEIGHT_IN, DPI = 7.2, 9.0, 150
SIZE_PX = (1080, 1350)

# Child areas drawn on one bar chart. With more, the best HEAD_ROWS, a row saying how many
# are left out, and the worst TAIL_ROWS: the leaders and those officers chase always show.
MAX_ROWS = 25
HEAD_ROWS = 16
TAIL_ROWS = MAX_ROWS - HEAD_ROWS - 1
READING_NAMES = 10  # names a reading lists before "và N nơi khác"
NOTE_STEP = 0.024  # the height of a note line under the plot, in figure fractions
MAX_MONTH_TICKS = 13  # a year and the same month of the year before, each labelled
PX_PER_PT = DPI / 72
EPSILON = 1e-9

# Colours: colour-blind safe (Okabe–Ito), and each meaning keeps its colour on every chart.
BLUE, SKY, GREEN, ORANGE = "#0072B2", "#56B4E9", "#009E73", "#E69F00"
VERMILION, GREY, DARK = "#D55E00", "#9E9E9E", "#333333"


# ---- numbers and labels -------------------------------------------------------------------


def _nfc(text: str) -> str:
    """Text in composed form: matplotlib draws no combining marks over letters, so a name
    typed on a keyboard that sends decomposed Vietnamese (e + ◌̂ + ◌́) must be composed (ế)."""
    return unicodedata.normalize("NFC", text)


def _short(name: str, limit: int) -> str:
    """A name cut to ``limit`` characters with "…" at the end."""
    name = _nfc(name).strip()
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _fits(width: float, font: float, bold: bool = False) -> int:
    """How many characters of a name fit in ``width`` (a fraction of the image's width) at
    ``font`` points: DejaVu Sans averages about 0.66 em a character on Vietnamese names
    (0.72 em bold). Measuring each text would need a draw; this keeps a build cheap."""
    em = font * PX_PER_PT * (0.72 if bold else 0.66)
    return max(8, int(width * SIZE_PX[0] / em))


def _decimal(x: float, digits: int = 2) -> str:
    """``12.4`` -> ``"12,40"``: the Vietnamese decimal comma, a real minus sign."""
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = f"{0:.{digits}f}"
    return text.replace(".", ",").replace("-", "−")


def _percent(x: float, digits: int = 2) -> str:
    return f"{_decimal(x, digits)} %"


def _points(x: float) -> str:
    return _decimal(abs(x))


def _change(reduction: float) -> str:
    """How a rate moved, in words: "giảm 1,55 điểm", "tăng 0,20 điểm", "không đổi"."""
    if round(reduction, 2) > 0:
        return t("charts.change.down", points=_points(reduction))
    if round(reduction, 2) < 0:
        return t("charts.change.up", points=_points(reduction))
    return t("charts.change.flat")


def _tick(x: float, _pos: int | None = None) -> str:
    """An axis tick: at most two decimals, trailing zeros dropped, decimal comma."""
    text = _decimal(x, 2).rstrip("0").rstrip(",")
    return "0" if text in ("", "−0") else text


def _count_tick(x: float, _pos: int | None = None) -> str:
    return format_count(round(x)).replace("-", "−")


def _month(key: str) -> str:
    """``"2026-10"`` -> ``"T10/26"``."""
    year, month = key.split("-")
    return t("charts.month", month=int(month), year=year[-2:])


def _month_ticks(keys: Sequence[str]) -> tuple[list[int], list[str]]:
    """Tick positions and labels for a month axis: "T10", with the year under the first
    tick of each year (the baseline chart's year-ends: under every one); at most 13
    labels."""
    step = max(1, math.ceil(len(keys) / MAX_MONTH_TICKS))
    positions = list(range(0, len(keys), step))
    labels = []
    shown_year = None
    for i in positions:
        year, month = (int(part) for part in keys[i].split("-"))
        label = t("charts.month_axis", month=month)
        if year != shown_year:  # the first tick of each year (also when months are sparse)
            label += f"\n{year}"
            shown_year = year
        labels.append(label)
    return positions, labels


def _as_of(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _met(child: ChildReduction) -> bool:
    return child.reduction is not None and child.reduction >= child.target - EPSILON


def _nan(value: float | int | None) -> float:
    return math.nan if value is None else float(value)


# ---- the canvas ---------------------------------------------------------------------------


# Laid-out texts kept between charts (per process): tick labels, titles, legends, and the
# names of an area's villages or communes come back chart after chart. A few KiB each.
TEXT_CACHE_SIZE = 4096
_LaidOut = tuple[float, float, float, Any, float, float]
_TEXT_CACHE: OrderedDict[tuple, _LaidOut] = OrderedDict()
_TEXT_CACHE_LOCK = threading.Lock()  # thread mode draws in worker threads


class _TextRenderer(RendererAgg):
    """The Agg renderer, with each text laid out by FreeType once and drawn as one bitmap.

    Text is most of a chart's drawing time. Matplotlib 3.11's Agg renderer loads every glyph
    of a text three times: once to measure the text (for its alignment), once to lay it out
    again when drawing, and once more to render it — each a FreeType glyph load of tens of
    microseconds — and places the glyphs one by one from Python. Here a text is laid out once
    (``FT2Font.set_text``) and its glyphs drawn into one bitmap, kept in an LRU cache of the
    process: the measuring pass and the drawing pass share it, later charts with the same
    text reuse it, and drawing is one blit at a whole pixel, as Matplotlib up to 3.10 did
    (the bitmap depends only on the text, the font, its size, the dpi and the hinting, so a
    cached one is the same picture). Turned text (an axis label), math text and text with
    OpenType features or a language set go the usual way.
    """

    def _text(self, s: str, prop: FontProperties, antialiased: bool) -> _LaidOut:
        """Width, height, descent, bitmap and the bitmap's x and y offset, in pixels."""
        flags = get_hinting_flag()
        key = (s, antialiased, flags, self.dpi, tuple(prop.get_family()),
               prop.get_style(), prop.get_variant(), prop.get_weight(), prop.get_stretch(),
               prop.get_size_in_points(), prop.get_file())
        with _TEXT_CACHE_LOCK:
            laid_out = _TEXT_CACHE.get(key)
            if laid_out is not None:
                _TEXT_CACHE.move_to_end(key)
                return laid_out
        font = self._prepare_font(prop)
        font.set_text(s, 0.0, flags=flags)
        width, height = font.get_width_height()
        descent = font.get_descent()
        font.draw_glyphs_to_bitmap(antialiased=antialiased)
        x_offset, y_offset = font.get_bitmap_offset()
        bitmap = font.get_image().copy()
        laid_out = (width / 64, height / 64, descent / 64, bitmap, x_offset / 64,
                    y_offset / 64)
        with _TEXT_CACHE_LOCK:
            _TEXT_CACHE[key] = laid_out
            while len(_TEXT_CACHE) > TEXT_CACHE_SIZE:
                _TEXT_CACHE.popitem(last=False)
        return laid_out

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        width, height, descent, *_ = self._text(s, prop, bool(rcParams["text.antialiased"]))
        return width, height, descent

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or angle or (mtext is not None and (mtext.get_fontfeatures() is not None
                                                      or mtext.get_language() is not None)):
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        _w, _h, descent, bitmap, x_offset, y_offset = self._text(s, prop,
                                                                 bool(gc.get_antialiased()))
        # (x, y) is the left end of the baseline, y downwards; the bitmap's bottom edge is
        # the descent below it.
        x, y = round(x + x_offset), round(y + y_offset + descent)
        self._renderer.draw_text_image(bitmap, x, y + 1, 0, gc)
        return None


class _Canvas(FigureCanvasAgg):
    """The Agg canvas, drawing with :class:`_TextRenderer`."""

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:
            self.renderer = _TextRenderer(width, height, self.figure.dpi)
            self._lastKey = key
        return self.renderer


class _ChartAxes(Axes):
    """Axes whose limits every chart sets itself (``set_xlim``/``set_ylim``).

    Matplotlib grows the data limits with each bar added (transforming the bar's outline
    into data coordinates): two thirds of the time of ``bar``/``barh``, about 15 ms of a
    chart of 20 rows, for limits that are set explicitly right after. Lines still count
    towards the data limits (the trend chart's y axis comes from its values anyway).
    """

    def _update_patch_limits(self, patch) -> None:
        return None


# ---- layout -------------------------------------------------------------------------------


def _figure(title: str, area: str, as_of: date, *, left: float = 0.13,
            right: float = 0.95, bottom: float = 0.09, top: float = 0.84) -> tuple[Figure, Axes]:
    """A phone-sized figure on the Agg canvas with the title, the area and the as-of date.

    Fixed margins instead of constrained layout or ``bbox_inches="tight"``: the image stays
    exactly 1080 × 1350 px, and no layout pass (which measures every text) slows the draw.
    """
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    _Canvas(fig)
    subtitle = t("charts.as_of", area=_short(area, 44), date=_as_of(as_of))
    fig.suptitle(f"{_nfc(title)}\n{subtitle}", x=0.5, y=0.975, fontsize=14.5,
                 fontweight="bold", linespacing=1.5, va="top")
    ax = fig.add_axes((left, bottom, right - left, top - bottom), axes_class=_ChartAxes)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10.5)
    return fig, ax


def _legend(ax: Axes, handles: Sequence[Any] | None = None, ncols: int = 2) -> None:
    """The legend between the title and the plot, where it never hides data."""
    kwargs: dict[str, Any] = {"handles": handles} if handles is not None else {}
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.01), ncols=ncols, frameon=False,
              fontsize=10.5, handlelength=2.2, columnspacing=1.4, **kwargs)


def _row_font(rows: int) -> float:
    return 11.5 if rows <= 10 else 10.5 if rows <= 18 else 9.5


def _notes(fig: Figure, notes: Sequence[str]) -> None:
    """Under the plot, one line each: rows left out, figures carried from earlier reports."""
    for line, note in enumerate(reversed(notes)):
        fig.text(0.5, 0.012 + NOTE_STEP * line, note, ha="center", va="bottom", fontsize=10,
                 color=DARK, style="italic")


def _bottom(base: float, notes: Sequence[str]) -> float:
    """The plot's bottom edge, with room for ``notes``."""
    return base + (NOTE_STEP * len(notes) + 0.008 if notes else 0.0)


def _elide(rows: Sequence[Any]) -> tuple[list[Any], int]:
    """Rows to draw, best first: all of them, or the first HEAD_ROWS, None (a row that says
    how many are left out) and the last TAIL_ROWS; and how many are left out."""
    if len(rows) <= MAX_ROWS:
        return list(rows), 0
    hidden = len(rows) - HEAD_ROWS - TAIL_ROWS
    return [*rows[:HEAD_ROWS], None, *rows[-TAIL_ROWS:]], hidden


def _hidden_note(hidden: int) -> list[str]:
    return [t("charts.and_more", n=hidden)] if hidden else []


def _carried_note(carried: Carried | None) -> list[str]:
    """The footnote of figures marked "*": carried from earlier reports (a village's says
    which month it has not filed)."""
    if carried is None:
        return []
    if carried.village:
        return [t("charts.carried_village", month=_month(carried.month), note=carried.text())]
    return [f"* {carried.text()}"]


def _reading_carried(text: str, carried: Carried | None) -> str:
    if carried is None:
        return text
    if carried.village:
        return text + " " + t("charts.reading.carried_village", note=carried.text(),
                              month=month_label(carried.month))
    return text + " " + t("charts.reading.carried", note=carried.text())


def _bar_rows(ax: Axes, names: Sequence[str | None], font: float, left: float,
              bold: Sequence[bool] = (), marked: Sequence[bool] = (), hidden: int = 0) -> None:
    """Category rows top to bottom, in the order given, each named left of the axes; a name
    ``marked`` gets " *" (figures carried); None is the row of the ``hidden`` left out.

    The names are plain texts (gid ``"row"``) rather than tick labels: a tick is five artists,
    and on a chart of many rows making them took about a third of the render time.
    """
    ax.set_yticks([])
    ax.set_ylim(len(names) - 0.4, -0.6)
    for row, name in enumerate(names):
        if name is None:
            ax.text(-0.012, row, t("charts.gap_row", n=hidden),
                    transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontsize=font, style="italic", color=GREY, gid="row", clip_on=False)
            continue
        heavy = row < len(bold) and bold[row]
        mark = row < len(marked) and marked[row]
        text = _short(name, _fits(left - 0.02, font, heavy) - (2 if mark else 0))
        ax.text(-0.012, row, f"{text} *" if mark else text,
                transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=font,
                fontweight="bold" if heavy else "normal", color="black", gid="row",
                clip_on=False)


def _span(values: Sequence[float], pad_right: float = 0.32) -> tuple[float, float]:
    """x limits for horizontal bars, with room for the value written after each bar."""
    lo, hi = min(0.0, *values), max(0.0, *values)
    width = (hi - lo) or 1.0
    return lo - (0.22 * width if lo < 0 else 0.0), hi + pad_right * width


# ---- has_data -----------------------------------------------------------------------------


def has_data(kind: str, data: object) -> bool:
    """Whether ``data`` has anything to draw; False means: answer "no data", send no chart."""
    _check(kind, data)
    return _KINDS[kind].has_data(data)


def _has_trend(data: TrendData) -> bool:
    return any(r is not None for r in data.rates)


def _has_reduction(data: ReductionData) -> bool:
    return any(c.reduction is not None for c in data.children)


def _has_baseline(data: BaselineData) -> bool:
    return data.baseline > 0 and any(c is not None for c in data.counts)


def _has_completeness(data: CompletenessData) -> bool:
    return any(c.on_time + c.late + c.missing > 0 for c in data.children)


def _has_funnel(data: FunnelData) -> bool:
    return max(data.registered, data.under_review, data.recognised, data.not_yet,
               data.withdrawn) > 0


def _has_ranking(data: RankingData) -> bool:
    return any(r.reduction is not None for r in data.rows)


def _require(ok: bool, kind: str) -> None:
    if not ok:
        raise ValueError(f"nothing to draw on the {kind} chart")


# ---- trend --------------------------------------------------------------------------------


def build_trend(data: TrendData) -> Figure:
    """The poverty rate by month (line with markers) and the target path (dashed)."""
    _require(_has_trend(data), TREND)
    notes = _carried_note(data.carried)
    fig, ax = _figure(t("charts.trend.title"), data.area, data.as_of, left=0.11, right=0.97,
                      top=0.82, bottom=_bottom(0.09, notes))
    x = list(range(len(data.months)))
    rates = [_nan(r) for r in data.rates]
    ax.plot(x, rates, color=BLUE, linewidth=2.6, marker="o", markersize=6.5,
            label=t("charts.trend.series"), zorder=3)
    ax.plot(x, [_nan(p) for p in data.target], color=VERMILION, linewidth=2, linestyle="--",
            label=t("charts.trend.target", points=_points(data.target_points)), zorder=2)
    last = max(i for i, r in enumerate(data.rates) if r is not None)
    at_the_edge = len(x) > 1 and last == len(x) - 1  # keep the label inside the image
    mark = "*" if data.carried is not None and last == len(x) - 1 else ""
    if mark:  # the last month counts villages that have not filed it: a hollow marker
        ax.plot([last], [rates[last]], linestyle="none", marker="o", markersize=6.5,
                markerfacecolor="white", markeredgecolor=BLUE, markeredgewidth=2, zorder=4)
    ax.annotate(_percent(rates[last]) + mark, (last, rates[last]),
                xytext=(6 if at_the_edge else 0, -16),
                textcoords="offset points", ha="right" if at_the_edge else "center", va="top",
                fontsize=11, fontweight="bold", color=BLUE)
    ax.set_xticks(*_month_ticks(data.months), fontsize=10.5)
    ax.set_xlim(-0.5, len(x) - 0.5)
    values = [v for v in [*rates, *(_nan(p) for p in data.target)] if not math.isnan(v)]
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.15, 0.25)
    ax.set_ylim(max(0.0, lo - pad), hi + pad)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_ylabel(t("charts.trend.axis"), fontsize=11)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    _legend(ax, ncols=1)
    _notes(fig, notes)
    return fig


def reading_trend(data: TrendData) -> str:
    """"Tỷ lệ hộ nghèo của X giảm từ 12,40 % (T1/26) xuống 10,85 % (T10/26), 1,55 điểm; …"."""
    known = [(m, r) for m, r in zip(data.months, data.rates, strict=True) if r is not None]
    if not known:
        return t("charts.reading.no_data", area=_nfc(data.area))
    (first_month, first), (last_month, last) = known[0], known[-1]
    params = {"area": _nfc(data.area), "first": _percent(first),
              "first_month": _month(first_month), "last": _percent(last),
              "last_month": _month(last_month), "points": _points(last - first),
              "target": _points(data.target_points)}
    if len(known) == 1:
        text = t("charts.trend.reading.single", **params)
    elif round(first - last, 2) > 0:
        text = t("charts.trend.reading.down", **params)
    elif round(first - last, 2) < 0:
        text = t("charts.trend.reading.up", **params)
    else:
        text = t("charts.trend.reading.flat", **params)
    path = data.target[data.months.index(last_month)]
    if path is not None:
        if last <= path + EPSILON:
            text += " " + t("charts.trend.reading.on_track", month=_month(last_month),
                            path=_percent(path))
        else:
            text += " " + t("charts.trend.reading.behind", month=_month(last_month),
                            points=_points(last - path), path=_percent(path))
    return _reading_carried(text, data.carried)


# ---- reduction ----------------------------------------------------------------------------


def _reduction_order(children: Sequence[ChildReduction]) -> list[ChildReduction]:
    """Best first (the largest fall, as on the ranking), no data last; ties in the one order
    of areas (``name_key``)."""
    return sorted(children, key=lambda c: (c.reduction is None, -round(c.reduction or 0.0, 2),
                                           name_key(c.name)))


def build_reduction(data: ReductionData) -> Figure:
    """This year's fall of the poverty rate by child area (bars, green where the target is
    met) with each child's target (a black tick on its row), best first."""
    _require(_has_reduction(data), REDUCTION)
    shown, hidden = _elide(_reduction_order(data.children))
    rows = [c for c in shown if c is not None]
    notes = [*_hidden_note(hidden), *_carried_note(data.carried if any(
        c.carried is not None for c in rows) else None)]
    left = 0.31
    fig, ax = _figure(t("charts.reduction.title", year=data.year), data.area, data.as_of,
                      left=left, bottom=_bottom(0.07, notes))
    font = _row_font(len(shown))
    y = [i for i, c in enumerate(shown) if c is not None]
    widths = [c.reduction or 0.0 for c in rows]
    colours = [GREEN if _met(c) else ORANGE if c.reduction is not None else GREY for c in rows]
    ax.barh(y, widths, height=0.62, color=colours, zorder=2)
    ax.plot([c.target for c in rows], y, linestyle="none", marker="|",
            markersize=min(22.0, 330.0 / max(len(shown), 1)), markeredgewidth=3, color=DARK,
            zorder=3, label=t("charts.reduction.target"))
    lo, hi = _span([*widths, *(c.target for c in rows)])
    ax.set_xlim(lo, hi)
    gap, label_width = (hi - lo) * 0.015, (hi - lo) * 0.11
    for row, child in zip(y, rows, strict=True):
        if child.reduction is None:
            ax.text(gap, row, t("charts.no_data"), va="center", ha="left", fontsize=font - 1,
                    color=GREY, style="italic", gid="value")
            continue
        if child.reduction < 0:
            ax.text(child.reduction - gap, row, _decimal(child.reduction), va="center",
                    ha="right", fontsize=font, color=DARK, gid="value")
            continue
        end = child.reduction
        if end - gap < child.target < end + label_width:  # the value would cover the tick
            end = child.target
        ax.text(end + gap, row, _decimal(child.reduction), va="center", ha="left",
                fontsize=font, color=DARK, gid="value")
    ax.axvline(0, color=DARK, linewidth=0.9, zorder=1)
    _bar_rows(ax, [c.name if c else None for c in shown], font, left,
              marked=[c is not None and c.carried is not None for c in shown], hidden=hidden)
    ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xlabel(t("charts.reduction.axis", year=data.year), fontsize=11)
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.8, zorder=0)
    handles: list[Any] = []  # only what the chart shows
    if any(_met(c) for c in rows):
        handles.append(Patch(color=GREEN, label=t("charts.reduction.met")))
    if any(c.reduction is not None and not _met(c) for c in rows):
        handles.append(Patch(color=ORANGE, label=t("charts.reduction.not_met")))
    handles.append(Line2D([], [], linestyle="none", marker="|", markersize=14,
                          markeredgewidth=3, color=DARK, label=t("charts.reduction.target")))
    _legend(ax, handles, ncols=3)
    _notes(fig, notes)
    return fig


def reading_reduction(data: ReductionData) -> str:
    """How many child areas met the target this year, and the best one."""
    known = [c for c in data.children if c.reduction is not None]
    if not known:
        return t("charts.reading.no_data", area=_nfc(data.area))
    best = _reduction_order(known)[0]
    text = t("charts.reduction.reading", year=data.year, area=_nfc(data.area),
             met=sum(_met(c) for c in known), total=len(data.children), best=_nfc(best.name),
             change=_change(best.reduction or 0.0), target=_points(best.target))
    if len(known) < len(data.children):
        text += " " + t("charts.reduction.reading_missing", n=len(data.children) - len(known))
    return _reading_carried(text, data.carried)


# ---- baseline -----------------------------------------------------------------------------


def build_baseline(data: BaselineData) -> Figure:
    """Poor + near-poor households by month (bars), the baseline (solid line) and half the
    baseline (dashed, "−50 %"), the award criterion of DOMAIN §5."""
    _require(_has_baseline(data), BASELINE)
    notes = _carried_note(data.carried)
    fig, ax = _figure(t("charts.baseline.title", baseline_label=_nfc(data.baseline_label)),
                      data.area, data.as_of, left=0.14, right=0.87, top=0.79,
                      bottom=_bottom(0.09, notes))
    x = list(range(len(data.months)))
    heights = [c or 0 for c in data.counts]
    bars = ax.bar(x, heights, width=0.66, color=SKY, label=t("charts.baseline.series"),
                  zorder=2)
    half = data.baseline / 2
    ax.axhline(data.baseline, color=DARK, linewidth=2, zorder=3,
               label=t("charts.baseline.line", baseline_label=_nfc(data.baseline_label),
                       count=format_count(data.baseline)))
    ax.axhline(half, color=VERMILION, linewidth=2.2, linestyle="--", zorder=3,
               label=t("charts.baseline.half", count=format_count(math.ceil(half))))
    ax.text(1.01, half, t("charts.baseline.half_short"), transform=ax.get_yaxis_transform(),
            va="center", ha="left", fontsize=11.5, fontweight="bold", color=VERMILION,
            clip_on=False)
    last = max(i for i, c in enumerate(data.counts) if c is not None)
    mark = "*" if data.carried is not None and last == len(x) - 1 else ""
    if mark:  # the last month counts villages that have not filed it: a hatched bar
        bars[last].set_hatch("//")
        bars[last].set_edgecolor("white")
    ax.annotate(format_count(heights[last]) + mark, (last, heights[last]), xytext=(0, 4),
                textcoords="offset points", ha="center", va="bottom", fontsize=10.5,
                fontweight="bold", color=BLUE)
    ax.set_xticks(*_month_ticks(data.months), fontsize=10.5)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylim(0, max(data.baseline, *heights) * 1.08)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(_count_tick))
    ax.set_ylabel(t("charts.baseline.axis"), fontsize=11)
    ax.grid(axis="y", color="#E5E5E5", linewidth=0.8, zorder=0)
    handles, labels = ax.get_legend_handles_labels()  # the bars first, then the two lines
    order = [labels.index(t("charts.baseline.series"))]
    order += [i for i in range(len(labels)) if i not in order]
    _legend(ax, [handles[i] for i in order], ncols=1)
    _notes(fig, notes)
    return fig


def reading_baseline(data: BaselineData) -> str:
    """"… còn 620 hộ (T10/26), giảm 38,0 % so với gốc …, còn cách mốc −50 % 120 hộ."."""
    known = [(m, c) for m, c in zip(data.months, data.counts, strict=True) if c is not None]
    if not known or data.baseline <= 0:
        return t("charts.reading.no_data", area=_nfc(data.area))
    month, count = known[-1]
    change = 100.0 * (data.baseline - count) / data.baseline
    params = {"area": _nfc(data.area), "count": format_count(count), "month": _month(month),
              "pct": _percent(abs(change), 1), "baseline_label": _nfc(data.baseline_label),
              "baseline": format_count(data.baseline),
              "gap": format_count(math.ceil(count - data.baseline / 2))}
    if count <= data.baseline / 2:
        text = t("charts.baseline.reading.reached", **params)
    elif count <= data.baseline:
        text = t("charts.baseline.reading.down", **params)
    else:
        text = t("charts.baseline.reading.up", **params)
    return _reading_carried(text, data.carried if month == data.months[-1] else None)


# ---- completeness -------------------------------------------------------------------------


def _completeness_order(children: Sequence[ChildCompleteness]) -> list[ChildCompleteness]:
    """Best first: the largest share on time, then the largest share filed; no reports due
    last; ties in the one order of areas (``name_key``)."""
    def key(c: ChildCompleteness) -> tuple[bool, float, float, tuple]:
        total = c.on_time + c.late + c.missing
        if not total:
            return (True, 0.0, 0.0, name_key(c.name))
        return (False, -c.on_time / total, -(c.on_time + c.late) / total, name_key(c.name))
    return sorted(children, key=key)


def build_completeness(data: CompletenessData) -> Figure:
    """Reports of the period by child area: stacked bars on time, late, missing, best first.
    Where every row is one report (the villages of a commune in one month) there is nothing
    to count: each bar says its state in words and there is no count axis."""
    _require(_has_completeness(data), COMPLETENESS)
    shown, hidden = _elide(_completeness_order(data.children))
    rows = [c for c in shown if c is not None]
    notes = _hidden_note(hidden)
    left = 0.31
    single = all(c.on_time + c.late + c.missing <= 1 for c in data.children)
    fig, ax = _figure(t("charts.completeness.title", period_label=_nfc(data.period_label)),
                      data.area, data.as_of, left=left,
                      bottom=_bottom(0.04 if single else 0.07, notes))
    font = _row_font(len(shown))
    y = [i for i, c in enumerate(shown) if c is not None]
    on_time = [c.on_time for c in rows]
    late = [c.late for c in rows]
    missing = [c.missing for c in rows]
    ax.barh(y, on_time, height=0.62, color=GREEN, zorder=2)
    ax.barh(y, late, left=on_time, height=0.62, color=ORANGE, zorder=2)
    ax.barh(y, missing, left=[a + b for a, b in zip(on_time, late, strict=True)], height=0.62,
            color=VERMILION, zorder=2)
    totals = [a + b + c for a, b, c in zip(on_time, late, missing, strict=True)]
    _lo, hi = _span([float(n) for n in totals], pad_right=0.18 if not single else 0.42)
    ax.set_xlim(0, hi)
    states = (t("charts.completeness.on_time"), t("charts.completeness.late"),
              t("charts.completeness.missing"))
    for row, child, total in zip(y, rows, totals, strict=True):
        if single and total:
            value = states[0] if child.on_time else states[1] if child.late else states[2]
        else:
            value = f"{child.on_time + child.late}/{total}"
        ax.text(total + hi * 0.012, row, value, va="center", ha="left", fontsize=font,
                color=DARK, gid="value")
    _bar_rows(ax, [c.name if c else None for c in shown], font, left, hidden=hidden)
    if single:  # one report a row: a count axis would only say 0 and 1
        ax.xaxis.set_visible(False)
        ax.spines["bottom"].set_visible(False)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(_count_tick))
        ax.set_xlabel(t("charts.completeness.axis"), fontsize=11)
        ax.grid(axis="x", color="#E5E5E5", linewidth=0.8, zorder=0)
    _legend(ax, [Patch(color=colour, label=label) for colour, label, values in (
        (GREEN, states[0], on_time), (ORANGE, states[1], late), (VERMILION, states[2], missing))
        if any(values)], ncols=3)
    _notes(fig, notes)
    return fig


def _names(names: Iterable[str]) -> str:
    """Area names in the one order of areas (``name_key``), the first READING_NAMES of them
    and how many more."""
    ordered = sorted(names, key=name_key)
    shown = ", ".join(_nfc(name) for name in ordered[:READING_NAMES])
    if len(ordered) > READING_NAMES:
        shown = t("charts.reading.and_more", names=shown, n=len(ordered) - READING_NAMES)
    return shown


def reading_completeness(data: CompletenessData) -> str:
    """"Báo cáo tháng 10/2026 của X: 18/20 báo cáo đã gửi, trong đó 3 gửi muộn; 2 chưa gửi."."""
    if not _has_completeness(data):
        return t("charts.reading.no_data", area=_nfc(data.area))
    on_time = sum(c.on_time for c in data.children)
    late = sum(c.late for c in data.children)
    missing = sum(c.missing for c in data.children)
    text = t("charts.completeness.reading", period_label=_nfc(data.period_label),
             area=_nfc(data.area), filed=on_time + late, total=on_time + late + missing,
             late=late, missing=missing)
    if missing and all(c.on_time + c.late + c.missing <= 1 for c in data.children):
        names = _names(c.name for c in data.children if c.missing)
        text += " " + t("charts.completeness.reading_missing", names=names)
    elif missing:  # the areas furthest behind: one, or all of those tied
        most = max(c.missing for c in data.children)
        worst = [c.name for c in data.children if c.missing == most]
        if len(worst) == 1:
            text += " " + t("charts.completeness.reading_worst", name=_nfc(worst[0]), n=most)
        else:
            text += " " + t("charts.completeness.reading_worst_tied", names=_names(worst),
                            n=most)
    else:
        text += " " + t("charts.completeness.reading_complete")
    return text


# ---- funnel -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelStage:
    label: str
    count: int
    colour: str


def funnel_stages(data: FunnelData) -> tuple[list[FunnelStage], list[FunnelStage], int]:
    """The funnel's stages, the side outcomes and the registrations not yet reviewed.

    The life cycle is registered → under review → recognised | not yet (DOMAIN §7), so a
    registration has reached review when it is under review or decided: the middle stage is
    ``under_review + recognised + not_yet``. Withdrawals can happen at any stage and are shown
    beside the funnel, with the not-yet decisions.
    """
    reviewed = data.under_review + data.recognised + data.not_yet
    stages = [FunnelStage(t("charts.funnel.registered"), data.registered, BLUE),
              FunnelStage(t("charts.funnel.reviewed"), reviewed, SKY),
              FunnelStage(t("charts.funnel.recognised"), data.recognised, GREEN)]
    sides = [FunnelStage(t("charts.funnel.not_yet"), data.not_yet, ORANGE),
             FunnelStage(t("charts.funnel.withdrawn"), data.withdrawn, GREY)]
    pending = max(0, data.registered - reviewed - data.withdrawn)
    return stages, sides, pending


def build_funnel(data: FunnelData) -> Figure:
    """Centred bars narrowing from registered to recognised, then not yet and withdrawn."""
    _require(_has_funnel(data), FUNNEL)
    stages, sides, pending = funnel_stages(data)
    fig, ax = _figure(t("charts.funnel.title"), data.area, data.as_of, left=0.05, right=0.95,
                      top=0.86, bottom=0.10)
    rows = [*stages, *sides]
    y = [0.0, 1.0, 2.0, 3.4, 4.4]  # a gap between the funnel and the side outcomes
    widest = max(s.count for s in rows) or 1
    ax.barh(y, [s.count for s in rows], left=[(widest - s.count) / 2 for s in rows],
            height=0.5, color=[s.colour for s in rows], zorder=2)
    for row, stage in zip(y, rows, strict=True):
        share = _percent(100.0 * stage.count / data.registered, 0) if data.registered else "—"
        ax.text(widest / 2, row - 0.31, stage.label, ha="center", va="bottom", fontsize=12.5,
                color=DARK)
        value = t("charts.funnel.value", count=format_count(stage.count), share=share)
        if stage.count == 0:  # no bar: the value stands where it would be, in the middle
            ax.text(widest / 2, row + 0.02, value, ha="center", va="center", fontsize=13,
                    fontweight="bold", color=GREY, zorder=3, gid="value")
        elif stage.count >= widest * 0.4:  # room inside the bar
            ax.text(widest / 2, row + 0.02, value, ha="center", va="center", fontsize=13,
                    fontweight="bold", color="white", zorder=3, gid="value")
        else:
            ax.text((widest + stage.count) / 2 + widest * 0.02, row + 0.02, value,
                    ha="left", va="center", fontsize=13, fontweight="bold", color=DARK,
                    zorder=3, gid="value")
    ax.axhline(2.7, color="#CCCCCC", linewidth=1, xmin=0.05, xmax=0.95)
    ax.set_ylim(4.9, -0.6)
    ax.set_xlim(-widest * 0.04, widest * 1.04)
    ax.set_axis_off()
    if pending:
        fig.text(0.5, 0.05, t("charts.funnel.pending", n=format_count(pending)), ha="center",
                 va="center", fontsize=11.5, color=DARK, style="italic")
    return fig


def reading_funnel(data: FunnelData) -> str:
    """How many registered, how many recognised (and what share), the rest by state."""
    if not _has_funnel(data):
        return t("charts.reading.no_data", area=_nfc(data.area))
    share = _percent(100.0 * data.recognised / data.registered, 0) if data.registered else "—"
    return t("charts.funnel.reading", area=_nfc(data.area),
             registered=format_count(data.registered), recognised=format_count(data.recognised),
             share=share, under_review=format_count(data.under_review),
             not_yet=format_count(data.not_yet), withdrawn=format_count(data.withdrawn))


# ---- ranking ------------------------------------------------------------------------------


def ranked(rows: Sequence[RankingRow]) -> list[tuple[int | None, RankingRow]]:
    """Rows best first with their rank; equal reductions (to the shown two decimals) share a
    rank ("1, 2, 2, 4") and are in the one order of areas (``name_key``), as are the rows
    without data, last and unranked."""
    ordered = sorted(rows, key=lambda r: (r.reduction is None, -round(r.reduction or 0.0, 2),
                                          name_key(r.name)))
    result: list[tuple[int | None, RankingRow]] = []
    rank, previous = 0, None
    for position, row in enumerate(ordered, start=1):
        if row.reduction is None:
            result.append((None, row))
            continue
        value = round(row.reduction, 2)
        if value != previous:
            rank, previous = position, value
        result.append((rank, row))
    return result


def build_ranking(data: RankingData) -> Figure:
    """The leaderboard: child areas by this year's reduction, best first, with the rank by
    each name, the reduction by each bar and the poverty rate now in a column on the right;
    the top three stand out."""
    _require(_has_ranking(data), RANKING)
    shown, hidden = _elide(ranked(data.rows))
    rows = [r for r in shown if r is not None]
    notes = [*_hidden_note(hidden), *_carried_note(data.carried if any(
        row.carried is not None for _, row in rows) else None)]
    left = 0.34
    fig, ax = _figure(t("charts.ranking.title", year=data.year), data.area, data.as_of,
                      left=left, right=0.96, bottom=_bottom(0.07, notes), top=0.85)
    font = _row_font(len(shown))
    y = [i for i, r in enumerate(shown) if r is not None]
    top3 = [rank is not None and rank <= 3 for rank, _row in rows]
    widths = [row.reduction or 0.0 for _, row in rows]
    colours = [GREY if row.reduction is None else VERMILION if row.reduction < 0
               else BLUE if best else SKY for best, (_, row) in zip(top3, rows, strict=True)]
    ax.barh(y, widths, height=0.66, color=colours, zorder=2)
    lo, hi = _span(widths, pad_right=0.55)
    ax.set_xlim(lo, hi)
    gap = (hi - lo) * 0.012
    rates = ax.get_yaxis_transform()
    for position, best, (_rank, row) in zip(y, top3, rows, strict=True):
        weight = "bold" if best else "normal"
        if row.reduction is None:
            ax.text(gap, position, t("charts.no_data"), va="center", ha="left",
                    fontsize=font - 1, color=GREY, style="italic", gid="value")
        else:
            ax.text(row.reduction + (gap if row.reduction >= 0 else -gap), position,
                    _decimal(row.reduction), va="center",
                    ha="left" if row.reduction >= 0 else "right", fontsize=font, color=DARK,
                    fontweight=weight, gid="value")
        ax.text(1.0, position, "—" if row.rate is None else _percent(row.rate),
                transform=rates, va="center", ha="right", fontsize=font, color=DARK,
                fontweight=weight, gid="rate")
    ax.text(1.0, 1.01, t("charts.ranking.rate_header"), transform=ax.transAxes, ha="right",
            va="bottom", fontsize=10, color=DARK)
    names = [None if entry is None else
             t("charts.ranking.label", rank=entry[0], name=_nfc(entry[1].name))
             if entry[0] is not None else entry[1].name for entry in shown]
    bold = [entry is not None and entry[0] is not None and entry[0] <= 3 for entry in shown]
    _bar_rows(ax, names, font, left, bold=bold, hidden=hidden,
              marked=[entry is not None and entry[1].carried is not None for entry in shown])
    ax.axvline(0, color=DARK, linewidth=0.9, zorder=1)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xlabel(t("charts.ranking.axis", year=data.year), fontsize=11)
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.8, zorder=0)
    _notes(fig, notes)
    return fig


def reading_ranking(data: RankingData) -> str:
    """The top three of the leaderboard."""
    leaders = [(rank, row) for rank, row in ranked(data.rows) if rank is not None][:3]
    if not leaders:
        return t("charts.reading.no_data", area=_nfc(data.area))
    names = ", ".join(t("charts.ranking.leader", rank=rank, name=_nfc(row.name),
                        change=_change(row.reduction or 0.0)) for rank, row in leaders)
    return _reading_carried(t("charts.ranking.reading", year=data.year, area=_nfc(data.area),
                              leaders=names), data.carried)


# ---- dispatch -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    data_type: type
    build: Callable[[Any], Figure]
    reading: Callable[[Any], str]
    has_data: Callable[[Any], bool]


_KINDS: dict[str, _Kind] = {
    TREND: _Kind(TrendData, build_trend, reading_trend, _has_trend),
    REDUCTION: _Kind(ReductionData, build_reduction, reading_reduction, _has_reduction),
    BASELINE: _Kind(BaselineData, build_baseline, reading_baseline, _has_baseline),
    COMPLETENESS: _Kind(CompletenessData, build_completeness, reading_completeness,
                        _has_completeness),
    FUNNEL: _Kind(FunnelData, build_funnel, reading_funnel, _has_funnel),
    RANKING: _Kind(RankingData, build_ranking, reading_ranking, _has_ranking),
}


def _check(kind: str, data: object) -> None:
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValueError(f"no such chart: {kind!r} (one of {', '.join(KINDS)})")
    if not isinstance(data, spec.data_type):
        raise TypeError(f"the {kind} chart draws {spec.data_type.__name__}, "
                        f"not {type(data).__name__}")


def build(kind: str, data: object) -> Figure:
    """The figure of chart ``kind`` for ``data``."""
    _check(kind, data)
    return _KINDS[kind].build(data)


def reading(kind: str, data: object) -> str:
    """The one-line reading of chart ``kind`` for ``data``."""
    _check(kind, data)
    return _KINDS[kind].reading(data)


def render_png(kind: str, data: object) -> bytes:
    """Chart ``kind`` of ``data`` as PNG bytes, exactly 1080 × 1350 px.

    Module-level and pure, so a process pool can run it. The image is drawn by the Agg
    canvas and written by Pillow as a 256-colour PNG with no metadata (not even a software
    name or a date), so equal data gives byte-equal images.
    """
    fig = build(kind, data)
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                             "RGBA", 0, 1).convert("RGB")
    # 256 colours are plenty for flat chart colours and their anti-aliasing: a third of the
    # bytes of true colour and faster to compress (~25 ms instead of ~50 ms).
    image = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    # Freeing: without pyplot no registry holds the figure, so dropping the last reference
    # frees it (fig.clear() would only spend ~15 ms clearing axes that go away anyway).
    del fig, canvas
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


# ---- rendering off the event loop, with a cache -------------------------------------------

# matplotlib is not thread-safe: in thread mode (workers=0) one chart is drawn at a time.
_THREAD_LOCK = threading.Lock()


def _render_in_thread(kind: str, data: object) -> bytes:
    with _THREAD_LOCK:
        return render_png(kind, data)


def _warm_up_samples() -> list[tuple[str, object]]:
    """One small chart of every kind, with rows with and without data, the top three, a
    rows note: what a worker draws once at its start."""
    day, names = date(2026, 11, 5), [f"Thôn Nậm Khắt {i}" for i in range(30)]
    months = tuple(f"2026-{m:02d}" for m in range(1, 11))
    return [
        (TREND, TrendData("Xã Nậm Khắt", day, months, (12.4, None, *[12.0] * 8),
                          (12.4, *[12.0] * 9), 3.0)),
        (REDUCTION, ReductionData("Xã Nậm Khắt", day, 2026, tuple(
            ChildReduction(n, None if i == 1 else i / 10 - 1, 2.0)
            for i, n in enumerate(names)))),
        (BASELINE, BaselineData("Xã Nậm Khắt", day, "cuối năm 2021", 100, months,
                                (90, None, *[60] * 8))),
        (COMPLETENESS, CompletenessData("Xã Nậm Khắt", day, "tháng 10/2026", tuple(
            ChildCompleteness(n, i % 2, i % 3 // 2, 1 - i % 2) for i, n in enumerate(names)))),
        (FUNNEL, FunnelData("Xã Nậm Khắt", day, registered=10, under_review=2, recognised=5,
                            not_yet=1, withdrawn=1)),
        (RANKING, RankingData("Xã Nậm Khắt", day, 2026, tuple(
            RankingRow(n, None if i == 1 else i / 10 - 1, 9.5) for i, n in enumerate(names)))),
    ]


def warm_up() -> None:
    """Draw one chart of each kind, so that the fonts (regular, bold, italic, at every size),
    their look-ups and the drawing code are loaded before the first officer's chart, not
    during it (the first chart of a kind in a fresh worker took ~50 ms longer). A pool
    worker does this once at its start (``reports.worker.init_worker``)."""
    for kind, data in _warm_up_samples():
        render_png(kind, data)


class ChartRenderer:
    """Renders charts in a process pool and keeps the PNG bytes until the data changes; builds
    spreadsheets in the same pool (``build_sheet``).

    The cache is an LRU keyed by ``(kind, data)``: the data classes are frozen and hashable,
    and equal data is the same picture, so nothing is ever rendered twice and a change in the
    data (a new report, a new month) is a new key. Concurrent requests for one key share one
    render. ``workers=0`` draws in a thread instead (tests, tiny machines).
    """

    def __init__(self, workers: int = 2, cache_size: int = 256) -> None:
        if workers < 0 or cache_size < 0:
            raise ValueError("workers and cache_size must not be negative")
        self.workers = workers
        self.cache_size = cache_size
        self.renders = 0  # charts actually drawn (not served from the cache)
        self._cache: OrderedDict[tuple[str, object], bytes] = OrderedDict()
        self._pending: dict[tuple[str, object], asyncio.Future[bytes]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._sheets: asyncio.Semaphore | None = None  # sheets built at once

    def __len__(self) -> int:
        return len(self._cache)

    async def render(self, kind: str, data: object) -> bytes:
        """The PNG of chart ``kind`` for ``data``, from the cache when it was drawn before.

        Raises ``ValueError`` when there is nothing to draw (check :func:`has_data` first).
        """
        _check(kind, data)
        key = (kind, data)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._draw(kind, data))
            self._pending[key] = pending
            pending.add_done_callback(partial(self._settle, key))
        # A caller that gives up (a cancelled handler) must not cancel the render the others
        # are waiting for; the result still lands in the cache.
        return await asyncio.shield(pending)

    def _settle(self, key: tuple[str, object], future: asyncio.Future[bytes]) -> None:
        self._pending.pop(key, None)
        if future.cancelled() or future.exception() is not None:
            return  # not cached: the next request tries again
        if self.cache_size:
            self._cache[key] = future.result()
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    async def _draw(self, kind: str, data: object) -> bytes:
        self.renders += 1
        started = time.perf_counter()
        if self.workers == 0:
            png = await asyncio.to_thread(_render_in_thread, kind, data)
        else:
            png = await self._in_pool(render_png, kind, data)
        logger.debug("chart %s of %s drawn in %.0f ms, %d bytes", kind,
                     getattr(data, "area", "?"), 1000 * (time.perf_counter() - started),
                     len(png))
        return png

    async def build_sheet(self, kind: str, data: object) -> bytes:
        """Workbook ``kind`` of ``data`` (``reports.sheets.build``), built in the pool (in a
        thread with ``workers=0``), never on the event loop: a province's household list is
        seconds of work. Not cached (a workbook can be megabytes); while a sheet is built at
        least one worker stays free for charts (with two or more workers)."""
        if self._sheets is None:
            self._sheets = asyncio.Semaphore(max(1, self.workers - 1))
        async with self._sheets:
            started = time.perf_counter()
            if self.workers == 0:
                xlsx = await asyncio.to_thread(sheets.build, kind, data)
            else:
                xlsx = await self._in_pool(sheets.build, kind, data)
        logger.debug("sheet %s of %s built in %.0f ms, %d bytes", kind,
                     getattr(data, "area", "?"), 1000 * (time.perf_counter() - started),
                     len(xlsx))
        return xlsx

    async def _in_pool(self, function: Callable[..., bytes], *args: object) -> bytes:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._get_pool()
            try:
                return await loop.run_in_executor(pool, function, *args)
            except BrokenProcessPool:
                # A worker died (killed, out of memory): start a fresh pool and retry once.
                logger.warning("chart worker pool broke (attempt %d), starting a new one",
                               attempt, exc_info=True)
                if self._pool is pool:
                    self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn", not "fork": the bot's process has threads (asyncio.to_thread, the
            # database driver, the HTTP client), and a forked child inherits whatever locks
            # they held at that instant, which can deadlock it (Python 3.12+ warns about fork
            # in threaded programs). A spawned worker starts a fresh interpreter and imports
            # only this module; it lives as long as the pool, so its start-up (~1 s, mostly
            # importing matplotlib) is paid once per worker, not per chart. "forkserver" would
            # do as well on Linux but is not available everywhere and shares one server
            # process-wide. Note: spawn re-imports the program's __main__ in each worker;
            # ``python -m bot`` is safe (package __main__ modules are skipped), a script
            # needs the usual ``if __name__ == "__main__":`` guard.
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=init_worker)
        return self._pool

    async def start(self) -> None:
        """Start every worker now (at the bot's start), so that the first charts are not
        slow and no worker is spawned — a second of CPU — while people are chatting."""
        if self.workers == 0:
            return
        loop = asyncio.get_running_loop()
        pool = self._get_pool()
        # One task per worker, each holding its worker a moment, so that all of them start.
        await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, 0.2)
                               for _ in range(self.workers)))

    def clear(self) -> None:
        """Forget every cached image."""
        self._cache.clear()

    def close(self, wait: bool = True) -> None:
        """Stop the worker processes (the cache stays usable; a later render starts a new
        pool)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

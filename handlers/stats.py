"""``/thongke [địa bàn] [kỳ]``: officers' statistics in chat — a summary, charts, the
ranking, award candidates and spreadsheets, for the officer's area and what lies under it.

Steps: ``pick_area`` (several areas match, or the officer has several) → ``menu`` (the summary,
then buttons: each chart, candidates for commendation, each spreadsheet; typing another area
or period asks again about that). The menu is passive: any other command ends it.

Nothing heavy happens inside the message's transaction: the summary, charts and spreadsheets
are ``Outbound.deferred`` work that the core runs after the commit, on the read connection
and the chart processes, so statistics never hold up anyone's report.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import format_count, format_decimal, format_money, format_percent
from common.text import visible
from handlers import menu
from reports.awards import POINTS, Candidate
from reports.figures import month_label
from reports.periods import Period, PeriodError, default_month, parse_period
from reports.stats import (
    BY_CHILD_AREA,
    CARRIED_NAMES,
    CHART_KINDS,
    SHEET_KINDS,
    StatsService,
    Summary,
    period_label,
)
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
DIALOG = "stats"
PASSIVE = True  # another command simply ends this dialog
CHART_OPTION_KEYS = {
    "trend": "stats.option.trend", "reduction": "stats.option.reduction",
    "baseline": "stats.option.baseline", "completeness": "stats.option.completeness",
    "funnel": "stats.option.funnel", "ranking": "stats.option.ranking",
}
# Workbooks that name households and their heads (personal data, Decree 13/2023/NĐ-CP).
PERSONAL_SHEETS = frozenset({"households", "registrations"})
SHEET_OPTION_KEYS = {
    "monthly": "stats.option.sheet_monthly", "summary": "stats.option.sheet_summary",
    "households": "stats.option.sheet_households",
    "registrations": "stats.option.sheet_registrations",
}


def _officer_scopes(ctx: Context) -> list[Area]:
    return [r.area for r in ctx.person.roles if r.role in ("officer", "admin")]


def split_args(text: str, today) -> tuple[str, Period | None, bool]:
    """(area text, period, a period was attempted and is wrong) from ``/thongke`` arguments:
    the period is the longest trailing run of words that names one. Invisible marks are
    dropped first: what is quoted back is what the officer sees."""
    words = visible(text).split()
    failed = False
    for size in range(min(6, len(words)), 0, -1):
        try:
            period = parse_period(" ".join(words[-size:]), today)
        except PeriodError:
            failed = True
            continue
        if period is not None:
            return " ".join(words[:-size]), period, False
    return " ".join(words), None, failed


async def start(ctx: Context, args: str) -> Result:
    """Opens the statistics of an area (the officer's own by default)."""
    scopes = _officer_scopes(ctx)
    if not scopes:
        return None, [Outbound(t("stats.officers_only"))]
    query, period, bad_period = split_args(args, ctx.today)
    choices, more = scopes, False
    if query:
        choices, more = await menu.areas_in_scope(ctx, query)
        if not choices and bad_period:  # "quy 5", "2019-13": say what a period looks like
            return None, [Outbound(t("stats.period_expected"))]
        if not choices:
            return None, [Outbound(t("stats.area_not_found", query=query[:60]))]
    elif bad_period:
        return None, [Outbound(t("stats.period_expected"))]
    period = period or Period.of_month(
        default_month(ctx.today, ctx.config.monthly.previous_month_until_day))
    if len(choices) == 1:
        return _open(ctx, choices[0], period)
    state = DialogState(DIALOG, "pick_area", {**menu.area_pick_draft(choices, more, query),
                                              "period": _key(period)})
    return state, await ask(ctx, state)


def _key(period: Period) -> list:
    return [period.kind, period.year, period.number]


def _period(draft: dict) -> Period:
    kind, year, number = draft["period"]
    return Period(kind, year, number)


def _open(ctx: Context, area: Area, period: Period) -> Result:
    """The summary (computed after the commit) and the menu."""
    state = DialogState(DIALOG, "menu", {"area_id": area.id, "area_name": area.name,
                                         "level": area.level, "period": _key(period)})
    work = partial(summary_reply, ctx.stats, area, period)
    return state, [Outbound("", deferred=work), _menu(ctx, state)]


def _kinds(ctx: Context, draft: dict) -> tuple[str, ...]:
    """The charts offered: a village has no child areas to compare."""
    if draft.get("level") == ctx.config.report_level:
        return tuple(k for k in CHART_KINDS if k not in BY_CHILD_AREA)
    return CHART_KINDS


def _menu(ctx: Context, state: DialogState) -> Outbound:
    draft = state.draft
    options = [Option(t(CHART_OPTION_KEYS[k]), f"chart:{k}") for k in _kinds(ctx, draft)]
    options.append(Option(t("stats.option.awards"), "awards"))
    options += [Option(t(SHEET_OPTION_KEYS[k]), f"sheet:{k}") for k in SHEET_KINDS]
    options.append(Option(t("stats.option.done"), "done", ("xong",)))
    return Outbound(t("stats.menu", area=draft["area_name"],
                      period=ctx.stats.period_label(_period(draft))), tuple(options),
                    free_input=False)


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    if state.step == "pick_area":
        return [await menu.area_page(ctx, state.draft, t("stats.pick_area"))]
    return [_menu(ctx, state)]


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """A chosen area, a chart, a spreadsheet, candidates, or another area or period."""
    if reply.action in ("cancel", "done"):
        return None, [menu.main_menu(ctx, t("stats.closed"))]
    if not _officer_scopes(ctx):
        return None, [Outbound(t("stats.officers_only"))]
    if state.step == "pick_area":
        if reply.action == "more":
            menu.next_area_page(state.draft)
            return state, await ask(ctx, state)
        area = None
        if reply.action and reply.action.startswith("area:"):
            area = await areas.get_area(ctx.conn, int(reply.action[5:]))
        if area is None or not ctx.person.can_see(area):
            found = (await menu.areas_in_scope(ctx, reply.text))[0] if reply.text.strip() else []
            if len(found) != 1:
                return state, [Outbound(t("stats.pick_expected"))] + await ask(ctx, state)
            area = found[0]
        return _open(ctx, area, _period(state.draft))
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    if area is None or not ctx.person.can_see(area):
        return None, [menu.main_menu(ctx, t("stats.not_allowed"))]
    period = _period(state.draft)
    action = reply.action or ""
    if action.startswith("chart:") and action[6:] in CHART_KINDS:
        if action[6:] not in ctx.stats.chart_kinds(area):  # a button of another area's menu
            return state, [Outbound(t("stats.chart_by_child_area", area=area.name)),
                           _menu(ctx, state)]
        work = partial(chart_reply, ctx.stats, action[6:], area, period)
    elif action == "awards":
        work = partial(awards_reply, ctx.stats, area, period)
    elif action.startswith("sheet:") and action[6:] in SHEET_KINDS:
        work = partial(sheet_reply, ctx.stats, action[6:], area, period)
    else:  # typed: another area and/or period
        return await _retarget(ctx, state, area, reply.text)
    return state, [Outbound("", deferred=work), _menu(ctx, state)]


async def _retarget(ctx: Context, state: DialogState, area: Area, text: str) -> Result:
    query, period, bad_period = split_args(text, ctx.today)
    if bad_period and not query:
        return state, [Outbound(t("stats.period_expected")), _menu(ctx, state)]
    if query:
        found, _more = await menu.areas_in_scope(ctx, query)
        if len(found) != 1:
            key = "stats.area_not_found" if not found else "stats.pick_expected"
            return state, [Outbound(t(key, query=query[:60])), _menu(ctx, state)]
        area = found[0]
    elif period is None:
        return state, [Outbound(t("stats.menu_expected")), _menu(ctx, state)]
    return _open(ctx, area, period or _period(state.draft))


# ---- the deferred work: after the commit, on the read connection -----------------------


def _points(x: float | None) -> str:
    return "—" if x is None else format_decimal(x)


def _fall(points: float) -> str:
    """How the poverty rate moved, in words: «giảm 1,55 điểm», «tăng 0,20 điểm», «không
    đổi» (as the charts' readings say it)."""
    if round(points, 2) > 0:
        return t("charts.change.down", points=format_decimal(points))
    if round(points, 2) < 0:
        return t("charts.change.up", points=format_decimal(-points))
    return t("charts.change.flat")


def _signed(x: float) -> str:
    """A change with its sign, a real minus as on the charts: «−42,77 %», «+3,10 %»."""
    text = format_decimal(abs(x))
    return text if text == format_decimal(0) else ("−" if x < 0 else "+") + text


def summary_text(s: Summary, now_label: str, carry_months: int = 12) -> str:
    """The summary in a few lines."""
    if s.label != period_label(s.period):  # not over: as far as the latest month
        lines = [t("stats.summary.title_running", area=s.area.name, period=s.label,
                   as_of=s.as_of.label, at=now_label)]
    else:
        lines = [t("stats.summary.title", area=s.area.name, period=s.label,
                   as_of=s.as_of.label, at=now_label)]
    if s.single_village:
        lines.append(t("stats.summary.households_village", total=format_count(s.now.total)))
    else:
        lines.append(t("stats.summary.households", total=format_count(s.now.total),
                       villages=s.villages, reported=s.reported_this_month,
                       month=s.as_of.label))
    lines.append(t("stats.summary.poor", n=format_count(s.now.poor),
                   rate=format_percent(s.now.poor_rate)))
    lines.append(t("stats.summary.near_poor", n=format_count(s.now.near_poor),
                   rate=format_percent(s.now.near_poor_rate)))
    reduction = s.reduction_this_year
    if reduction is None:
        lines.append(t("stats.summary.no_start"))
    else:
        done = (f"{max(0, round(100 * reduction / s.target))} %" if s.target > 0 else "—")
        lines.append(t("stats.summary.this_year", change=_fall(reduction),
                       start=format_percent(s.start.poor_rate), target=_points(s.target),
                       done=done))
    if s.baseline is not None and s.baseline.poor_rate is not None:
        change = s.baseline_change
        lines.append(t("stats.summary.baseline", label=s.baseline_label,
                       rate=format_percent(s.baseline.poor_rate),
                       points=_fall(s.baseline.poor_rate - s.now.poor_rate),
                       both=format_count(s.now.poor_and_near),
                       base=format_count(s.baseline.poor_and_near),
                       change=_signed(change) + " %" if change is not None else "—"))
    else:
        lines.append(t("stats.summary.no_baseline", label=s.baseline_label))
    r = s.reports
    if s.single_village:
        state = (t("stats.summary.report_on_time") if r.on_time
                 else t("stats.summary.report_late") if r.late
                 else s.carried.text() if s.carried is not None
                 else t("sheet.monthly.not_filed").lower())
        lines.append(t("stats.summary.report_village", month=s.as_of.label, state=state))
    else:
        lines.append(t("stats.summary.reports", month=s.as_of.label, filed=r.filed,
                       total=r.filed + r.missing, on_time=r.on_time, late=r.late))
        if s.carried is not None:
            lines.append(_carried_line(s))
        if s.uncounted:
            lines.append(t("stats.summary.uncounted", n=s.uncounted, months=carry_months))
    lines.append(t("stats.summary.registrations", year=s.as_of.year, registered=s.registered,
                   recognised=s.recognised))
    lines.append(t("stats.summary.support", amount=format_money(s.support_vnd)))
    return "\n".join(lines)


def _carried_line(s: Summary) -> str:
    """The villages counted with an earlier report: how many, from when, the first few by
    name and how many more (all of them are in the monthly spreadsheet)."""
    carried = s.carried
    shown = s.carried_villages[:CARRIED_NAMES]
    one_month = carried.oldest == carried.latest
    names = ", ".join(name if one_month else
                      t("stats.summary.carried_name", name=name, month=month_label(key))
                      for name, key in shown)
    more = carried.villages - len(shown)
    if more > 0:
        names = t("stats.summary.carried_more", names=names, n=more)
    return t("stats.summary.carried", text=carried.text(), names=names)


async def summary_reply(stats: StatsService, area: Area, period: Period) -> list[Outbound]:
    summary = await stats.summary(area, period)
    if summary is None:
        return [Outbound(t("stats.no_data", area=area.name,
                           period=stats.period_label(period)))]
    at = stats.clock().astimezone(stats.config.timezone)
    return [Outbound(summary_text(summary, f"{at:%d/%m/%Y %H:%M}",
                                  stats.config.stats.carry_months))]


async def chart_reply(stats: StatsService, kind: str, area: Area, period: Period
                      ) -> list[Outbound]:
    found = await stats.chart(kind, area, period)
    if found is None:
        return [Outbound(await stats.why_no_chart(kind, area, period))]
    png, reading = found
    return [Outbound(reading, image=png)]


def _candidate_line(c: Candidate) -> str:
    if c.rule == POINTS:
        years = ", ".join(f"{y}: {_points(p)}" for y, p in c.years)
        return t("stats.award.points", name=c.name, years=years,
                 threshold=_points(c.threshold))
    return t("stats.award.halved", name=c.name, base=format_count(c.baseline),
             now=format_count(c.now), fall=format_decimal(c.fall_percent, 1))


async def awards_reply(stats: StatsService, area: Area, period: Period) -> list[Outbound]:
    found = await stats.candidates(area, period)
    if found is None:
        return [Outbound(t("stats.no_data", area=area.name,
                           period=stats.period_label(period)))]
    cfg = stats.config.awards
    rules = t("stats.award.rules", points=_points(cfg.points_per_year),
              years=cfg.consecutive_years, share=round(100 * cfg.halved_share))
    month = found.as_of.label
    if found.no_baseline is not None:  # the halved rule cannot be judged
        rules += "\n" + t("stats.award.no_baseline", label=found.no_baseline,
                          share=round(100 * cfg.halved_share))
    if not found.found:
        key = "stats.award.none_village" if found.single_village else "stats.award.none"
        return [Outbound(t(key, area=area.name, month=month) + "\n" + rules)]
    lines = [t("stats.award.title", area=area.name, month=month, n=len(found.found))]
    for c in found.found:
        line = _candidate_line(c)
        if c.name in found.carried:
            line += " " + t("stats.award.carried", note=found.carried[c.name].text())
        lines.append(line)
    lines.append(rules)
    return [Outbound("\n".join(lines))]


async def sheet_reply(stats: StatsService, kind: str, area: Area, period: Period
                      ) -> list[Outbound]:
    found = await stats.sheet(kind, area, period)
    if found is None:
        return [Outbound(stats.why_no_sheet(kind, area, period))]
    data, name = found
    return [Outbound(t("stats.sheet_caption", name=t(SHEET_OPTION_KEYS[kind]),
                       area=area.name), document=data, filename=name,
                     personal=kind in PERSONAL_SHEETS)]

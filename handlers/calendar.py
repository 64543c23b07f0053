"""``/lich``: the reporting calendar of the person's area, and what they still have to file;
``/nhaclai``: an officer reminds the places still missing a report again.

Village heads see their villages' reports in season (filed or not, with the deadline);
commune officers also their commune's own 6-month and yearly reports and which villages are
still missing, with who heads each; officers above see each commune's completeness. A late
list longer than ``MAX_LISTED`` says how many more there are and offers them all
(``/lich <report>``); every late list offers «Nhắc lại» (``/nhaclai <report>``), which
reminds the village heads through the outbox (``handlers.campaigns.plan_remind_again``).
Every button of a reply is on its last message, so that a number typed on Zalo or the
console chooses from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from common.catalogue import t
from common.config import Calendar
from common.messages import Option, Outbound
from handlers.campaigns import (
    MAX_LISTED,
    UNIT_KEYS,
    by_name,
    due_phrase,
    full_list_option,
    late_name,
    listed,
    parse_report_args,
    plan_remind_again,
    remind_again_option,
    report_name,
    start_option,
    who_files,
)
from reports.calendar import COMMUNE, HALF_YEAR, MONTHLY, VILLAGE, open_periods
from reports.configured import calendar_of_area
from reports.periods import Month
from storage import areas
from storage.areas import Area
from storage.progress import filed_areas, filed_under

if TYPE_CHECKING:
    from handlers.context import Context


WHOSE_KEYS = {VILLAGE: "lich.report_of.village", COMMUNE: "lich.report_of.commune"}


def whose_report(form: str, period: str, level: str) -> str:
    """«Báo cáo tổng kết năm 2026 của các xã»: the villages' yearly report and the communes'
    have one name, so a line about those who file it says whose it is."""
    return t(WHOSE_KEYS[level], report=report_name(form, period))


def reminder_day(offset: int) -> str:
    """«3 ngày trước hạn», «đúng ngày hạn», «2 ngày sau hạn» for a reminder's offset."""
    if offset == 0:
        return t("lich.reminder.on_due")
    return t("lich.reminder.before" if offset < 0 else "lich.reminder.after", n=abs(offset))


def calendar_text(cal: Calendar, lock_day: int) -> str:
    """The calendar in a few lines."""
    m = cal.monthly
    offsets = ", ".join(reminder_day(d) for d in m.schedule.reminders)
    return t(
        "lich.calendar", due_day=m.due_day, lock_day=lock_day, offsets=offsets,
        h1_due=cal.half_year.due.label, h1_commune=cal.half_year.commune_due.label,
        year_due=cal.yearly.due.label, year_commune=cal.yearly.commune_due.label,
        peak_start=cal.peak_month.start.label, peak_end=cal.peak_month.end.label,
        review_start=cal.annual_review.start.label, review_end=cal.annual_review.end.label,
    )


@dataclass
class Late:
    """One report in one officer's area: the places that file it there, and those late."""

    form: str
    period: str
    level: str  # VILLAGE: the villages file it; COMMUNE: the communes do
    due: date
    scope: Area
    targets: list[Area]
    late: list[Area]
    heads: dict[int, list[str]]  # area id → who files for it on the bot (who_files)

    @property
    def report(self) -> str:
        return whose_report(self.form, self.period, self.level)

    def names(self, limit: int | None = MAX_LISTED) -> str:
        return listed([late_name(a, self.heads, self.level) for a in self.late], self.level,
                      limit)


async def _reporting_areas(ctx: Context) -> list[tuple[Area, str]]:
    """The areas the person files for: (area, level) — own villages, own communes."""
    found: list[tuple[Area, str]] = []
    for role in ctx.person.roles:
        if role.role == "village_head" and role.area.level == ctx.config.report_level:
            found.append((role.area, VILLAGE))
        elif role.role == "officer" and await _is_commune(ctx, role.area):
            found.append((role.area, COMMUNE))
    return found


async def _is_commune(ctx: Context, area: Area) -> bool:
    """A commune is an area whose children are villages."""
    kids = await areas.children(ctx.conn, area)
    return bool(kids) and kids[0].level == ctx.config.report_level


async def show(ctx: Context, args: str = "") -> list[Outbound]:
    """The calendar, the person's own pending reports, and (officers) their area's progress;
    with the arguments of a «Xem đủ» button, the whole late list of one report."""
    wanted = parse_report_args(args)
    if wanted is not None:
        found = await _late_of(ctx, *wanted)
        if found is not None:
            return [_full_list(found)]
    today = ctx.today
    lock_day = ctx.config.monthly.lock_day
    own = await _reporting_areas(ctx)
    anchor = own[0][0] if own else ctx.person.roles[0].area
    cal = await calendar_of_area(ctx.conn, ctx.config, anchor)
    season = open_periods(cal, today, lock_day)
    messages = [Outbound(t("lich.title", area=anchor.name) + "\n" + calendar_text(cal, lock_day))]

    lines: list[str] = []
    buttons: list[Option] = []
    for form, period, level, due in season:
        mine = [a for a, lv in own if lv == level]
        if not mine:
            continue
        filed = await filed_areas(ctx.conn, form, period, (a.id for a in mine))
        for area in mine:
            name = report_name(form, period)
            if area.id in filed:
                lines.append(t("lich.filed", report=name, area=area.name))
            else:
                lines.append(t("lich.pending", report=name, area=area.name,
                               due=due_phrase(due, today)))
                option = start_option(form, period, area if level == COMMUNE else None)
                if option.data not in {b.data for b in buttons}:
                    buttons.append(Option(f"{option.label}: {name}", option.data))
    if own:
        messages.append(Outbound(
            t("lich.mine") + "\n" + ("\n".join(lines) if lines else t("lich.nothing_due"))))

    blocks, more = await _progress(ctx, season)
    if blocks:
        messages.append(Outbound("\n\n".join(blocks)))
    buttons += more
    if buttons:  # all on the last message: one numbered list to choose from
        messages[-1] = messages[-1].with_options(*buttons, free_input=False)
    return messages


async def _progress(ctx: Context, season) -> tuple[list[str], list[Option]]:
    """Officers: who under their area has filed the reports in season; the late ones by
    name with their village heads, and the buttons to remind them or see them all."""
    blocks: list[str] = []
    buttons: list[Option] = []
    lates: list[Late] = []
    for role in ctx.person.roles:
        if role.role not in ("officer", "admin"):
            continue
        scope = role.area
        villages = await areas.subtree(ctx.conn, scope, level=ctx.config.report_level)
        if not villages:
            continue
        communes = [c for c in await areas.subtree(ctx.conn, scope)
                    if any(v.parent_id == c.id for v in villages)]
        heads: dict[str, dict[int, list[str]]] = {}  # by level: who files, by area
        for form, period, level, due in season:
            targets = villages if level == VILLAGE else [c for c in communes if c.id != scope.id]
            if not targets:
                continue
            filed = await filed_under(ctx.conn, form, period, scope.path)
            late = by_name(a for a in targets if a.id not in filed)
            head = t("lich.progress", report=whose_report(form, period, level),
                     area=scope.name, filed=len(targets) - len(late), total=len(targets),
                     unit=t(UNIT_KEYS[level]), due=f"{due:%d/%m/%Y}")
            if level == VILLAGE and len(communes) > 1:
                body = [t("calendar.digest.line", area=c.name,
                          filed=sum(1 for v in villages if v.parent_id == c.id and v.id in filed),
                          total=sum(1 for v in villages if v.parent_id == c.id),
                          mark="").rstrip() for c in communes]
                blocks.append("\n".join([head, *body]))
                continue
            if late and level not in heads:
                heads[level] = await who_files(ctx.conn, level, scope.path)
            entry = Late(form, period, level, due, scope, targets, late, heads.get(level, {}))
            blocks.append("\n".join([head, t("lich.missing"), entry.names()]) if late else head)
            if late:
                lates.append(entry)
    for entry in lates:
        detail = _detail(entry, lates)
        buttons.append(remind_again_option(entry.form, entry.period, entry.level, entry.scope,
                                           len(entry.late), detail))
        if len(entry.late) > MAX_LISTED:
            buttons.append(full_list_option(entry.form, entry.period, entry.level, entry.scope,
                                            len(entry.late), detail))
    return blocks, buttons


def _detail(entry: Late, among: list[Late]) -> str:
    """What tells ``entry``'s buttons from the others': the report, the area, or both."""
    if len(among) < 2:
        return ""
    parts = []
    if len({(e.form, e.period, e.level) for e in among}) > 1:  # the unit tells the level
        parts.append(report_name(entry.form, entry.period))
    if len({e.scope.id for e in among}) > 1:
        parts.append(entry.scope.name)
    return ", ".join(parts)


def _full_list(entry: Late) -> Outbound:
    """Every late place of one report, none left out, with «Nhắc lại»."""
    text = t("lich.full_list", report=entry.report, area=entry.scope.name,
             due=f"{entry.due:%d/%m/%Y}", late=len(entry.late), total=len(entry.targets),
             unit=t(UNIT_KEYS[entry.level]), names=entry.names(limit=None))
    if not entry.late:
        return Outbound(t("remind_again.nothing_late", report=entry.report,
                          area=entry.scope.name))
    option = remind_again_option(entry.form, entry.period, entry.level, entry.scope,
                                 len(entry.late))
    return Outbound(text, (option,), free_input=False)


def due_of(cal: Calendar, form: str, period: str, level: str) -> date:
    """The due date of a report of ``cal`` (``period`` as ``2026-11``, ``2026-H1``, ``2026``)."""
    if form == MONTHLY:
        return cal.monthly.due(Month.parse_key(period))
    report = cal.half_year if form == HALF_YEAR else cal.yearly
    day = report.due if level == VILLAGE else report.commune_due
    return day.in_year(int(period[:4]))


async def _late_of(ctx: Context, form: str, period: str, level: str,
                   area_id: int) -> Late | None:
    """One report in one area the person oversees as an officer (None when they do not)."""
    scope = await areas.get_area(ctx.conn, area_id)
    if scope is None or not any(r.role in ("officer", "admin") and r.area.contains(scope)
                                for r in ctx.person.roles):
        return None
    if level == VILLAGE:
        targets = await areas.subtree(ctx.conn, scope, level=ctx.config.report_level)
    else:
        villages = await areas.subtree(ctx.conn, scope, level=ctx.config.report_level)
        parents = {v.parent_id for v in villages}
        targets = [c for c in await areas.subtree(ctx.conn, scope)
                   if c.id in parents and c.id != scope.id]
    if not targets:
        return None
    cal = await calendar_of_area(ctx.conn, ctx.config, scope)
    filed = await filed_under(ctx.conn, form, period, scope.path)
    late = by_name(a for a in targets if a.id not in filed)
    heads = await who_files(ctx.conn, level, scope.path) if late else {}
    return Late(form, period, level, due_of(cal, form, period, level), scope, targets, late,
                heads)


async def _late_in_season(ctx: Context) -> list[Late]:
    """The reports in season with late places, in each area the person oversees."""
    found: list[Late] = []
    for role in ctx.person.roles:
        if role.role not in ("officer", "admin"):
            continue
        cal = await calendar_of_area(ctx.conn, ctx.config, role.area)
        for form, period, level, _ in open_periods(cal, ctx.today, ctx.config.monthly.lock_day):
            entry = await _late_of(ctx, form, period, level, role.area.id)
            if entry is not None and entry.late:
                found.append(entry)
    return found


def _at(ctx: Context, moment: datetime) -> str:
    """``08:00``, or ``07:00 02/12`` on another day than today."""
    local = moment.astimezone(ctx.config.timezone)
    return f"{local:%H:%M}" if local.date() == ctx.today else f"{local:%H:%M %d/%m}"


async def remind_again(ctx: Context, args: str) -> list[Outbound]:
    """``/nhaclai`` («Nhắc lại»): remind the places still missing a report again."""
    if not ctx.person.has_role("officer", "admin"):
        return [Outbound(t("remind_again.officers_only"))]
    wanted = parse_report_args(args)
    if wanted is None:
        candidates = await _late_in_season(ctx)
        if not candidates:
            return [Outbound(t("remind_again.none_late"))]
        if len(candidates) > 1:
            return [Outbound(t("remind_again.pick"), tuple(
                remind_again_option(c.form, c.period, c.level, c.scope, len(c.late),
                                    _detail(c, candidates))
                for c in candidates), free_input=False)]
        entry = candidates[0]
    else:
        entry = await _late_of(ctx, *wanted)
        if entry is None:
            return [Outbound(t("remind_again.not_found"))]
        cal = await calendar_of_area(ctx.conn, ctx.config, entry.scope)
        season = open_periods(cal, ctx.today, ctx.config.monthly.lock_day)
        if (entry.form, entry.period, entry.level) not in {s[:3] for s in season}:
            return [Outbound(t("remind_again.closed", report=entry.report))]
        if not entry.late:
            return [Outbound(t("remind_again.nothing_late", report=entry.report,
                               area=entry.scope.name))]
    done = await plan_remind_again(
        ctx.conn, ctx.config, form=entry.form, period=entry.period, level=entry.level,
        due=entry.due, scope=entry.scope, late=entry.late, requester=ctx.person,
        now=ctx.now, actor=ctx.actor)
    lines = []
    if done.campaign is not None:
        areas_text = ", ".join(a.name for a in done.areas)
        if done.starts > ctx.now:
            lines.append(t("remind_again.planned_later", report=entry.report, n=done.people,
                           areas=areas_text, at=_at(ctx, done.starts)))
        else:
            lines.append(t("remind_again.planned", report=entry.report, n=done.people,
                           areas=areas_text))
    elif done.recent:
        lines.append(t("remind_again.nobody_new", report=entry.report))
    if done.recent:
        recent = [t("remind_again.recent_line", name=name, at=_at(ctx, at),
                    by=t("remind_again.by_person", name=by) if by
                    else t("remind_again.by_calendar"))
                  for name, (at, by) in sorted(done.recent.items(), key=lambda i: i[1][0])]
        lines.append(t("remind_again.recent",
                       minutes=f"{ctx.config.outbox.remind_again_minutes:g}",
                       names="\n".join(f"• {line}" for line in recent)))
    if done.unheaded:
        lines.append(t("remind_again.unheaded", names=listed(
            [a.name for a in done.unheaded], entry.level, limit=None)))
    return [Outbound("\n\n".join(lines))]

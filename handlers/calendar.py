"""``/lich``: the reporting calendar of the person's area, and what they still have to file.

Village heads see their villages' reports in season (filed or not, with the deadline);
commune officers also their commune's own 6-month and yearly reports and which villages are
still missing; officers above see each commune's completeness. Read only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from common.catalogue import t
from common.config import Calendar
from common.messages import Option, Outbound
from handlers.router import menu_option
from reports.calendar import COMMUNE, HALF_YEAR, MONTHLY, VILLAGE, YEARLY, open_periods
from reports.configured import calendar_of_area
from reports.periods import Month
from storage import areas
from storage.areas import Area
from storage.progress import filed_areas, filed_under

if TYPE_CHECKING:
    from handlers.context import Context

MAX_LISTED = 40  # areas named in one message; the rest are counted
COMMAND_OF_FORM = {MONTHLY: "report", HALF_YEAR: "half_year", YEARLY: "yearly"}
# Message keys, spelled out so the catalogue test sees every one of them.
PERIOD_KEYS = {MONTHLY: "calendar.period.monthly", HALF_YEAR: "calendar.period.half_year",
               YEARLY: "calendar.period.yearly"}
REPORT_KEYS = {MONTHLY: "calendar.report.monthly_village",
               HALF_YEAR: "calendar.report.half_year", YEARLY: "calendar.report.yearly"}


def period_label(form: str, period: str) -> str:
    """How people name a period: "tháng 10/2026", "6 tháng đầu năm 2026", "năm 2026"."""
    if form == MONTHLY:
        return t(PERIOD_KEYS[form], period=Month.parse_key(period).label)
    return t(PERIOD_KEYS[form], year=period[:4])


def report_name(form: str, period: str) -> str:
    return t(REPORT_KEYS[form], period=period_label(form, period))


def due_phrase(due: date, today: date) -> str:
    """"hạn 05/12/2026, còn 3 ngày", "hôm nay … là hạn cuối", "… đã quá hạn 2 ngày"."""
    days = (due - today).days
    if days > 0:
        return t("calendar.due.before", due=f"{due:%d/%m/%Y}", days=days)
    if days == 0:
        return t("calendar.due.today", due=f"{due:%d/%m/%Y}")
    return t("calendar.due.late", due=f"{due:%d/%m/%Y}", days=-days)


def start_option(form: str, period: str, area: Area | None = None) -> Option:
    """The one-tap button that opens the report (as typing the command would)."""
    args = Month.parse_key(period).label if form == MONTHLY else period[:4]
    if area is not None and len(f"cmd:{COMMAND_OF_FORM[form]} {args} {area.name}".encode()) <= 60:
        args = f"{args} {area.name}"
    return Option(t("calendar.option.start"), menu_option(COMMAND_OF_FORM[form], args))



def calendar_text(cal: Calendar, lock_day: int) -> str:
    """The calendar in a few lines."""
    m = cal.monthly
    offsets = ", ".join(f"{d:+d}" for d in m.schedule.reminders)
    return t(
        "lich.calendar", due_day=m.due_day, lock_day=lock_day, offsets=offsets,
        h1_due=cal.half_year.due.label, h1_commune=cal.half_year.commune_due.label,
        year_due=cal.yearly.due.label, year_commune=cal.yearly.commune_due.label,
        peak_start=cal.peak_month.start.label, peak_end=cal.peak_month.end.label,
        review_start=cal.annual_review.start.label, review_end=cal.annual_review.end.label,
    )


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


async def show(ctx: Context) -> list[Outbound]:
    """The calendar, the person's own pending reports, and (officers) their area's progress."""
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
            t("lich.mine") + "\n" + ("\n".join(lines) if lines else t("lich.nothing_due")),
            tuple(buttons[:3])))

    progress = await _progress(ctx, season, today)
    if progress:
        messages.append(Outbound("\n\n".join(progress)))
    return messages


async def _progress(ctx: Context, season, today: date) -> list[str]:
    """Officers: who under their area has filed the reports in season."""
    blocks: list[str] = []
    for role in ctx.person.roles:
        if role.role not in ("officer", "admin"):
            continue
        scope = role.area
        villages = await areas.subtree(ctx.conn, scope, level=ctx.config.report_level)
        if not villages:
            continue
        communes = [c for c in await areas.subtree(ctx.conn, scope)
                    if any(v.parent_id == c.id for v in villages)]
        for form, period, level, due in season:
            targets = villages if level == VILLAGE else [c for c in communes if c.id != scope.id]
            if not targets:
                continue
            filed = await filed_under(ctx.conn, form, period, scope.path)
            late = [a for a in targets if a.id not in filed]
            head = t("lich.progress", report=report_name(form, period), area=scope.name,
                     filed=len(targets) - len(late), total=len(targets),
                     due=f"{due:%d/%m/%Y}")
            if level == VILLAGE and len(communes) > 1:
                body = [t("calendar.digest.line", area=c.name,
                          filed=sum(1 for v in villages if v.parent_id == c.id and v.id in filed),
                          total=sum(1 for v in villages if v.parent_id == c.id),
                          mark="").rstrip() for c in communes]
            else:
                body = [f"• {a.name}" for a in late[:MAX_LISTED]]
                if late:
                    body.insert(0, t("lich.missing"))
            blocks.append("\n".join([head, *body]))
    return blocks

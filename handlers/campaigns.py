"""What the bot's campaigns say and offer, and those planned from a dialog.

The words and buttons of the calendar's messages — a report's name, its deadline, the late
list with who files for each place (never cut without saying so), «Báo cáo ngay», «Nhắc lại»,
«Xem đủ» — are shared by the planner (``scheduler.planner``: reminders, late lists, digests),
``/lich`` and ``/nhaclai`` (``handlers.calendar``); announcements (``/thongbao``) and «Nhắc
lại» are planned into the outbox here, in the dialog's transaction. Below the scheduler, so
that the handlers never import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from common.catalogue import t
from common.config import Config
from common.messages import Option, Outbound
from common.text import fold
from handlers.router import menu_option
from reports.calendar import (
    COMMUNE,
    DIGEST,
    ESCALATE,
    HALF_YEAR,
    MONTHLY,
    NOTICE,
    REMIND,
    VILLAGE,
    YEARLY,
)
from reports.periods import Month
from storage.areas import Area
from storage.audit import record
from storage.outbox import Planned, create_campaign, recent_reminders
from storage.progress import role_holders

MAX_LISTED = 40  # areas named in one message; the rest are counted
COMMAND_OF_FORM = {MONTHLY: "report", HALF_YEAR: "half_year", YEARLY: "yearly"}
PRIORITY = {REMIND: 5, ESCALATE: 4, DIGEST: 4, NOTICE: 6, "announce": 6, "remind_again": 5}
# Message keys, spelled out so the catalogue test sees every one of them.
PERIOD_KEYS = {MONTHLY: "calendar.period.monthly", HALF_YEAR: "calendar.period.half_year",
               YEARLY: "calendar.period.yearly"}
REPORT_KEYS = {MONTHLY: "calendar.report.monthly_village",
               HALF_YEAR: "calendar.report.half_year", YEARLY: "calendar.report.yearly"}
REMIND_AGAIN_KEYS = {VILLAGE: "calendar.remind_again.village",
                     COMMUNE: "calendar.remind_again.commune"}
REMIND_AGAIN = "remind_again"  # the kind of a campaign an officer asked for («Nhắc lại»)


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


UNIT_KEYS = {VILLAGE: "calendar.unit.village", COMMUNE: "calendar.unit.commune"}


def listed(items: list[str], level: str, limit: int | None = MAX_LISTED) -> str:
    """One bullet per item, at most ``limit`` of them and then «… và 22 thôn khác» (a list is
    never cut without saying so; the caller offers the rest: :func:`full_list_option`)."""
    shown = items if limit is None else items[:limit]
    text = "\n".join(f"• {name}" for name in shown)
    more = len(items) - len(shown)
    return text + ("\n" + t("calendar.and_more", n=more, unit=t(UNIT_KEYS[level]))
                   if more > 0 else "")


def by_name(found) -> list[Area]:
    """Areas in the order people look names up: alphabetical, diacritics aside."""
    return sorted(found, key=lambda a: (fold(a.name), a.id))


def late_name(area: Area, heads: dict[int, list[str]], level: str) -> str:
    """A late place with who files for it, «Bản Pa Ủ (trưởng thôn: Lò Văn Páo)» or «Xã Bum
    Nưa (cán bộ: …)», so the officer knows whom to call (see :func:`who_files`)."""
    if area.id not in heads:
        return t(NO_FILER_KEYS[level], area=area.name)
    return t(FILER_KEYS[level], area=area.name, heads=", ".join(heads[area.id]))


FILER_KEYS = {VILLAGE: "calendar.with_head", COMMUNE: "calendar.with_officer"}
NO_FILER_KEYS = {VILLAGE: "calendar.no_head", COMMUNE: "calendar.no_officer"}


async def who_files(conn, level: str, path: str = "/") -> dict[int, list[str]]:
    """The names of those on the bot who file a report of ``level`` (village heads for the
    villages', the commune's officers for the communes' own), by area (under ``path``)."""
    role = "village_head" if level == VILLAGE else "officer"
    heads: dict[int, list[str]] = {}
    for holder in await role_holders(conn, (role,), path):
        heads.setdefault(holder.area_id, []).append(holder.full_name)
    return heads


def report_args(form: str, period: str, level: str, scope: Area) -> str:
    """One report in one area as a button's arguments: ``monthly_village 2026-11 village 7``
    (read back by :func:`parse_report_args`; also typed, so checked like typed text)."""
    return f"{form} {period} {level} {scope.id}"


def parse_report_args(args: str) -> tuple[str, str, str, int] | None:
    """(form, period, level, area id) of :func:`report_args`, or None when ``args`` is not
    that."""
    parts = args.split()
    if len(parts) != 4 or parts[0] not in COMMAND_OF_FORM or parts[2] not in UNIT_KEYS:
        return None
    form, period, level, area = parts
    if not area.isdigit() or len(area) > 12:
        return None
    try:
        Month.parse_key(period) if form == MONTHLY else int(period[:4])
    except ValueError:
        return None
    if form != MONTHLY and period not in (period[:4], f"{period[:4]}-H1"):
        return None
    return form, period, level, int(area)


def remind_again_option(form: str, period: str, level: str, scope: Area, late: int,
                        detail: str = "") -> Option:
    """«🔁 Nhắc lại 5 thôn chưa gửi» (``— detail`` when a message offers several): remind
    the ``late`` places again (``/nhaclai``)."""
    unit = t(UNIT_KEYS[level])
    label = (t("calendar.option.remind_again_in", n=late, unit=unit, detail=detail)
             if detail else t("calendar.option.remind_again", n=late, unit=unit))
    return Option(label, menu_option("remind", report_args(form, period, level, scope)))


def full_list_option(form: str, period: str, level: str, scope: Area, late: int,
                     detail: str = "") -> Option:
    """«📋 Xem đủ 62 thôn chưa gửi»: the whole late list of a cut one (``/lich``)."""
    unit = t(UNIT_KEYS[level])
    label = (t("calendar.option.full_list_in", n=late, unit=unit, detail=detail)
             if detail else t("calendar.option.full_list", n=late, unit=unit))
    return Option(label, menu_option("calendar", report_args(form, period, level, scope)))


def start_option(form: str, period: str, area: Area | None = None) -> Option:
    """The one-tap button that opens the report (as typing the command would)."""
    args = Month.parse_key(period).label if form == MONTHLY else period[:4]
    if area is not None and len(f"cmd:{COMMAND_OF_FORM[form]} {args} {area.name}".encode()) <= 60:
        args = f"{args} {area.name}"
    return Option(t("calendar.option.start"), menu_option(COMMAND_OF_FORM[form], args))


# ---- announcements (planned from a dialog, in the dialog's transaction) --------------------


async def announcement_recipients(conn, area: Area, sender_id: int) -> list[int]:
    """Everyone with a role in ``area`` or under it, the sender excepted, once each."""
    people: list[int] = []
    for holder in await role_holders(conn, ("village_head", "officer"), area.path):
        if holder.person_id != sender_id and holder.person_id not in people:
            people.append(holder.person_id)
    return people


async def plan_announcement(conn, config: Config, *, key: str, sender_id: int,
                            sender_name: str, area: Area, text: str, now: datetime,
                            actor) -> tuple[int | None, int, datetime]:
    """Plan an officer's announcement to everyone in ``area``: (campaign id or None when
    ``key`` was planned before, recipients, when sending starts). Audited."""
    recipients = await announcement_recipients(conn, area, sender_id)
    message = Outbound(t("announce.message", name=sender_name, area=area.name, text=text))
    starts = config.calendar.next_sending_time(now.astimezone(config.timezone))
    title = text if len(text) <= 40 else (text[:39].rsplit(" ", 1)[0] or text[:39]) + "…"
    campaign = await create_campaign(
        conn, key=key, kind="announce", messages=[Planned(p, message) for p in recipients],
        not_before=starts, at=now, area_id=area.id, requested_by=sender_id, title=title,
        priority=PRIORITY["announce"])
    if campaign is not None:
        await record(conn, actor=actor, action="announce", entity="campaign",
                     entity_id=campaign, at=now,
                     after={"area_id": area.id, "area": area.name, "text": text,
                            "recipients": len(recipients)})
    return campaign, len(recipients), starts


# ---- «Nhắc lại»: an officer reminds the late ones again (planned from /nhaclai) ------------


@dataclass
class RemindAgain:
    """What «Nhắc lại» did: the campaign (None when nobody was left to remind), the people
    reminded and their areas, the late areas nobody on the bot heads, and those skipped as
    reminded shortly before (name → when, and who asked: None for the calendar)."""

    campaign: int | None
    people: int
    areas: list[Area]
    unheaded: list[Area]
    recent: dict[str, tuple[datetime, str | None]]
    starts: datetime


async def plan_remind_again(conn, config: Config, *, form: str, period: str, level: str,
                            due: date, scope: Area, late: list[Area], requester,
                            now: datetime, actor) -> RemindAgain:
    """Remind those who file the report for the ``late`` areas under ``scope``: their village
    heads (the communes' officers for the communes' own reports), through the outbox, within
    sending hours, each with «Báo cáo ngay». Nobody reminded of this report in the last
    ``outbox.remind_again_minutes`` (by the calendar or anyone) is reminded again. The
    campaign records who asked (its report of delivery goes back to them); audited."""
    roles = ("village_head",) if level == VILLAGE else ("officer",)
    wanted = {a.id: a for a in late}
    by_person: dict[int, tuple[str, list[Area]]] = {}
    for holder in await role_holders(conn, roles, scope.path):
        if holder.area_id in wanted:
            entry = by_person.setdefault(holder.person_id, (holder.full_name, []))
            entry[1].append(wanted[holder.area_id])
    headed = {a.id for _, own in by_person.values() for a in own}
    unheaded = [a for a in late if a.id not in headed]
    since = now - timedelta(minutes=config.outbox.remind_again_minutes)
    recent = await recent_reminders(conn, form, period, by_person, since)
    starts = config.calendar.next_sending_time(now.astimezone(config.timezone))
    today = now.astimezone(config.timezone).date()
    report = report_name(form, period)
    messages: list[Planned] = []
    reminded: list[Area] = []
    for person_id, (_, own) in by_person.items():
        if person_id in recent:
            continue
        text = t(REMIND_AGAIN_KEYS[level], name=requester.full_name, report=report,
                 areas=", ".join(a.name for a in own), due=due_phrase(due, today))
        area = own[0] if len(own) == 1 and level == COMMUNE else None
        messages.append(Planned(person_id, Outbound(text, (start_option(form, period, area),),
                                                    free_input=False),
                                {"form": form, "period": period, "areas": [a.id for a in own]}))
        reminded += [a for a in own if a not in reminded]
    skipped = {by_person[p][0]: when for p, when in recent.items()}
    if not messages:
        return RemindAgain(None, 0, [], unheaded, skipped, starts)
    campaign = await create_campaign(
        conn, key=f"{REMIND_AGAIN}:{form}:{period}:{scope.id}:{now.isoformat()}",
        kind=REMIND_AGAIN, messages=messages, not_before=starts, at=now, form=form,
        period=period, area_id=scope.id, requested_by=requester.id, title=report,
        priority=PRIORITY[REMIND_AGAIN])
    if campaign is not None:
        await record(conn, actor=actor, action="remind_again", entity="campaign",
                     entity_id=campaign, at=now,
                     after={"form": form, "period": period, "area_id": scope.id,
                            "area": scope.name, "people": len(messages),
                            "areas": [a.name for a in reminded]})
    return RemindAgain(campaign, len(messages), reminded, unheaded, skipped, starts)

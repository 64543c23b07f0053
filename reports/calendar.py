"""The reporting calendar, as data, and the events it yields (DOMAIN §6).

A :class:`Calendar` says when each report is due and when to remind: the monthly village
report of month M on a day of month M+1, the 6-month report (first half of the year) and the
yearly report on dates of the year, each filed first by the villages and then by the communes
(the commune's yearly report carries its commendation proposals), and two yearly notices: the
peak month "Vì người nghèo" and the annual poverty review. The calendar lives in
``config.toml`` (``[calendar]``; its models, with every rule they obey, are in ``common.config``);
a province or commune may override parts of it (``[[calendar.overrides]]``).

:func:`events_between` turns a calendar into dated :class:`Event` s — a reminder to those who
have not filed, a list of late villages to each commune officer, a digest to the officers
above, a notice to everyone — which the scheduler plans into the outbox. Every event has a key
that is the same however often it is computed, and an expiry: an event missed while the bot
was down is still sent at start-up until the next event of its series is due, never twice.

This module is pure: no I/O, no messenger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from common.config import Calendar, CalendarConfig, Schedule
from reports.periods import Month

MONTHLY, HALF_YEAR, YEARLY = "monthly_village", "half_year", "yearly"
REMIND, ESCALATE, DIGEST, NOTICE = "remind", "escalate", "digest", "notice"
VILLAGE, COMMUNE = "village", "commune"  # who files: the report level, or the level above it
PEAK_MONTH, ANNUAL_REVIEW = "peak_month", "annual_review"
# How long the last event of a series stays worth sending after its time (catch-up at start).
LAST_EVENT_GRACE = timedelta(days=3)


def due_date(cal: Calendar, form: str, period: str, level: str) -> date:
    """When ``form`` for ``period`` is due from areas of ``level`` (village or commune)."""
    if form == MONTHLY:
        return cal.monthly.due(Month.parse_key(period))
    report = cal.half_year if form == HALF_YEAR else cal.yearly
    return (report.due if level == VILLAGE else report.commune_due).in_year(int(period[:4]))


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the calendar asks the bot to send, at ``at`` (aware, local time).

    ``kind``: ``remind`` those who have not filed, ``escalate`` (late list to each commune
    officer), ``digest`` (completeness to the officers above), ``notice`` (to everyone).
    ``level``: who files the report (``village`` or ``commune``); for notices, the window name.
    ``calendar``: the index of the calendar in :func:`calendars` (0 is the default).
    """

    at: datetime
    expires: datetime
    kind: str
    form: str
    period: str
    level: str
    due: date
    offset: int
    calendar: int

    @property
    def key(self) -> str:
        """The same for the same event whenever it is computed: one campaign per key."""
        return (f"{self.kind}:{self.form}:{self.period}:{self.level}:{self.offset:+d}"
                f"@{self.calendar}")


def _series(level: str, due: date, schedule: Schedule) -> list[tuple[str, int, date]]:
    """(kind, offset, day) of one report's events, in time order within each kind."""
    out = [(REMIND, offset, due + timedelta(days=offset)) for offset in sorted(schedule.reminders)]
    out.append((ESCALATE, schedule.escalate_after,
                due + timedelta(days=schedule.escalate_after)))
    if level == VILLAGE:  # communes' late lists go to the province in the escalation already
        out.append((DIGEST, schedule.digest_after, due + timedelta(days=schedule.digest_after)))
    return out


def _dated(config: CalendarConfig, tz: ZoneInfo, day: date) -> datetime:
    return config.next_sending_time(datetime.combine(day, config.send_time, tz))


@lru_cache(maxsize=64)
def calendar_events(config: CalendarConfig, cal: Calendar, index: int, year: int,
                    tz: ZoneInfo) -> tuple[Event, ...]:
    """Every event of ``cal`` for the reports and notices of ``year`` (monthly: its months).

    Cached: the scheduler asks every minute, and the answer never changes."""
    events: list[Event] = []

    def add(form: str, period: str, level: str, due: date, schedule: Schedule) -> None:
        """The events of one report; each expires when the next of its kind is due."""
        by_kind: dict[str, list[tuple[int, datetime]]] = {}
        for kind, offset, day in _series(level, due, schedule):
            by_kind.setdefault(kind, []).append((offset, _dated(config, tz, day)))
        for kind, items in by_kind.items():
            for n, (offset, at) in enumerate(items):
                expires = items[n + 1][1] if n + 1 < len(items) else at + LAST_EVENT_GRACE
                events.append(Event(at, expires, kind, form, period, level, due, offset, index))

    for month in range(1, 13):
        period = Month(year, month)
        due = cal.monthly.due(period)
        add(MONTHLY, period.key, VILLAGE, due, cal.monthly.schedule)
    for form, report, period in ((HALF_YEAR, cal.half_year, f"{year}-H1"),
                                 (YEARLY, cal.yearly, f"{year}")):
        for level, due in ((VILLAGE, report.due.in_year(year)),
                           (COMMUNE, report.commune_due.in_year(year))):
            add(form, period, level, due, report.schedule)
    for name, window in ((PEAK_MONTH, cal.peak_month), (ANNUAL_REVIEW, cal.annual_review)):
        start, end = window.start.in_year(year), window.end.in_year(year)
        at = _dated(config, tz, start)
        events.append(Event(at, datetime.combine(end, time(23, 59), tz), NOTICE, name,
                            str(year), name, end, 0, index))
    return tuple(events)


def calendars(config: CalendarConfig) -> list[Calendar]:
    """The default calendar (index 0), then each override's, in configuration order."""
    return [config.default, *(o.calendar for o in config.overrides)]


def events_between(config: CalendarConfig, tz: ZoneInfo, start: datetime,
                   end: datetime) -> list[Event]:
    """The events of every calendar with ``start < at <= end``, in time order."""
    years = range(start.astimezone(tz).year - 1, end.astimezone(tz).year + 1)
    found = [
        event
        for index, cal in enumerate(calendars(config))
        for year in years
        for event in calendar_events(config, cal, index, year, tz)
        if start < event.at <= end
    ]
    return sorted(found, key=lambda e: (e.at, e.key))


OPEN_AROUND_DUE = timedelta(days=40)  # a 6-month or yearly report is "in season" this close


def open_periods(cal: Calendar, today: date, lock_day: int) -> list[tuple[str, str, str, date]]:
    """The reports in season on ``today``: (form, period, level, due), soonest due first.

    The monthly report of the month just ended until its lock day; a 6-month or yearly report
    from 40 days before its due date to 40 days after it.
    """
    found = []
    last_month = Month.of(today).previous()
    if today <= last_month.lock_date(lock_day):
        found.append((MONTHLY, last_month.key, VILLAGE, cal.monthly.due(last_month)))
    for year in (today.year - 1, today.year):
        for form, report, period in ((HALF_YEAR, cal.half_year, f"{year}-H1"),
                                     (YEARLY, cal.yearly, f"{year}")):
            for level, due in ((VILLAGE, report.due.in_year(year)),
                               (COMMUNE, report.commune_due.in_year(year))):
                if abs(today - due) <= OPEN_AROUND_DUE:
                    found.append((form, period, level, due))
    return sorted(found, key=lambda item: item[3])

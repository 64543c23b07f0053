"""Configuration: ``config.toml`` plus environment overrides, read once at start-up.

Every table of ``config.toml`` is a frozen pydantic model below, with the same keys: each field
states its type and its bounds, each rule between fields is a model validator. Nothing is
checked by hand at start-up; :func:`load_config` reads the file with pydantic-settings, lays
the environment over it (:data:`ENVIRONMENT`) and turns a ``ValidationError`` into one
:class:`ConfigError` whose lines each name a wrong setting by its dotted path
(``setting calendar.monthly.due_day must be …``) and say what is expected.

The settings of the reporting calendar, the poverty standards, targets and awards live here
too (DOMAIN §4–§6); what is computed from them stays in ``reports/``. This module is the
ground floor: it imports nothing from the project's other packages.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import annotated_types
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from common.indicators import INDICATORS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.toml"

# Environment variables laid over the file: (table, key) each one sets when it is not empty.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "GIAMNGHEO_DB": ("database", "path"),
    "GIAMNGHEO_TELEGRAM_TOKEN": ("telegram", "token"),
    "GIAMNGHEO_TELEGRAM_USERNAME": ("telegram", "username"),
    "GIAMNGHEO_ZALO_TOKEN": ("zalo", "token"),
    "GIAMNGHEO_ZALO_SECRET": ("zalo", "webhook_secret"),
    "GIAMNGHEO_ZALO_PUBLIC_URL": ("zalo", "public_base_url"),
}
# Secrets come from the environment only: written in the file, they stop the start-up.
SECRETS = ("GIAMNGHEO_TELEGRAM_TOKEN", "GIAMNGHEO_ZALO_TOKEN", "GIAMNGHEO_ZALO_SECRET")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting."""


# ---- types ----------------------------------------------------------------------------------
# Strict: TOML has integers, floats, booleans and strings, and none stands for another
# (1.5e6 is not a count of đồng, "36" is not a number of months, true is not 1).

Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]  # an integer is a float too: max_rate = 10
Bool = Annotated[bool, Strict()]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Word = Annotated[str, StringConstraints(min_length=1, to_lower=True)]
_rstrip = BeforeValidator(lambda v: v.strip().rstrip("/") if isinstance(v, str) else v)
Url = Annotated[str, StringConstraints(pattern=r"^https?://"), _rstrip]
UrlOrNone = Annotated[str, StringConstraints(pattern=r"^(https?://|$)"), _rstrip]  # "": none
Upper = BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)
Lower = BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)
AwardRule = Literal["points", "halved"]


def problem(message: str, at: str | None = None, setting: str | None = None
            ) -> PydanticCustomError:
    """A broken rule, for a validator to raise. ``message`` follows the setting's name
    ("must …", or ": …"); ``at`` is the wrong setting below the model that checks (or
    ``setting`` names it whole); ``{here}`` in either stands for the model's own path."""
    context = {key: value for key, value in (("at", at), ("setting", setting)) if value}
    return PydanticCustomError("setting", message, context)


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def _clock_time(value: object) -> time:
    if isinstance(value, time):  # a TOML local time: send_time = 08:00:00
        return value
    if isinstance(value, str) and (m := _CLOCK.fullmatch(value.strip())):
        hours, minutes = int(m[1]), int(m[2])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise problem(f'must be a time of day like "08:00", not {value!r}')


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class Settings(BaseModel):
    """A table of ``config.toml``: frozen (hashable, so it can key a cache), no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DayOfYear(Settings):
    """A month and day that recur every year, written "MM-DD" (29 February is not allowed)."""

    month: Int = Field(ge=1, le=12)
    day: Int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _exists(self) -> DayOfYear:
        try:
            date(2001, self.month, self.day)  # 2001: no 29 February
        except ValueError:
            raise problem(f"({self.month:02d}-{self.day:02d}) is not a day of the year") from None
        return self

    def in_year(self, year: int) -> date:
        return date(year, self.month, self.day)

    @property
    def label(self) -> str:
        return f"{self.day:02d}/{self.month:02d}"

    @property
    def ordinal(self) -> int:
        """The day's number in a year without 29 February."""
        return self.in_year(2001).toordinal()


def _day_of_year(value: object) -> DayOfYear:
    if isinstance(value, DayOfYear):
        return value
    if isinstance(value, str) and (m := _MONTH_DAY.fullmatch(value.strip())):
        try:
            date(2001, int(m[1]), int(m[2]))
        except ValueError:
            pass
        else:
            return DayOfYear(month=int(m[1]), day=int(m[2]))
    raise problem(f': {value!r} is not a day of the year; write "MM-DD", like "11-20" for '
                  "20 November (29 February is not allowed: it is missing most years)")


MonthDay = Annotated[DayOfYear, BeforeValidator(_day_of_year)]


# ---- [bot], [database], [telegram], [zalo] ------------------------------------------------


class BotConfig(Settings):
    """``[bot]``."""

    timezone: ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], Upper] = "INFO"
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"


class DatabaseConfig(Settings):
    """``[database]``. ``path`` as written: relative to the config file's folder."""

    path: Path = Path("var/giamngheo.sqlite3")
    synchronous: Annotated[Literal["OFF", "NORMAL", "FULL", "EXTRA"], Upper] = "NORMAL"
    busy_timeout_ms: Int = Field(5000, ge=0)
    inbound_dedup_days: Int = Field(14, ge=1)


class TelegramConfig(Settings):
    """``[telegram]``; ``token`` comes from the environment only."""

    token: str = ""
    username: Annotated[str, BeforeValidator(
        lambda v: v.strip().lstrip("@") if isinstance(v, str) else v)] = ""
    base_url: Url = "https://api.telegram.org/bot"
    base_file_url: Url = "https://api.telegram.org/file/bot"
    poll_timeout: Int = Field(30, ge=0)
    request_timeout: Float = Field(5.0, gt=0, le=300,
                                   description="seconds, more than 0 and at most 300")
    overall_max_rate: Float = Field(30.0, gt=0)
    group_max_rate: Float = Field(20.0, gt=0)
    per_chat_interval: Float = Field(1.0, ge=0)
    concurrent_updates: Int = Field(64, ge=1)
    transient_retries: Int = Field(2, ge=0, le=5)  # a reply refused with a 5xx: tried again


def _path_part(value: object) -> object:
    return "/" + value.strip("/") if isinstance(value, str) else value


class ZaloConfig(Settings):
    """``[zalo]``: the Zalo channel (Zalo Bot Platform). ``token`` and ``webhook_secret``
    come from the environment only."""

    token: str = ""
    webhook_secret: str = ""
    base_url: Url = "https://bot-api.zaloplatforms.com"
    mode: Annotated[Literal["webhook", "polling"], Lower] = "webhook"
    listen_host: Name = "127.0.0.1"
    listen_port: Int = Field(8080, ge=1, le=65535, description="a port number (1–65535)")
    webhook_path: Annotated[str, BeforeValidator(_path_part)] = "/zalo/webhook"
    public_base_url: UrlOrNone = ""
    register_webhook: Bool = True
    poll_timeout: Int = Field(30, ge=1)
    request_timeout: Float = Field(15.0, gt=0)
    max_rate: Float = Field(10.0, gt=0)
    per_chat_interval: Float = Field(1.0, ge=0)
    concurrent_updates: Int = Field(64, ge=1)
    media_ttl_minutes: Int = Field(60, ge=1, le=7 * 24 * 60,
                                   description="minutes from 1 to 10080 (a week)")
    personal_media_ttl_minutes: Int = Field(15, ge=1, le=24 * 60,
                                            description="minutes from 1 to 1440 (a day)")
    throttle_retry_seconds: Float = Field(30.0, gt=0)  # the first pause after a 429
    quota_pause_max_seconds: Float = Field(3600.0, gt=0)  # each 429 in a row doubles it
    transient_retries: Int = Field(2, ge=0, le=5)  # a reply refused with 403: tried again
    blocked_patterns: tuple[Word, ...] = ("block", "chặn", "unfollow", "not follow")
    window_patterns: tuple[Word, ...] = (
        "window", "interact", "tương tác", "expired", "hết hạn", "out of time", "48h", "24h",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ZaloConfig:
        if self.webhook_secret and not 8 <= len(self.webhook_secret) <= 256:
            raise problem("must be 8 to 256 characters (Zalo's limit)", at="webhook_secret")
        if self.personal_media_ttl_minutes > self.media_ttl_minutes:
            raise problem(f"({self.personal_media_ttl_minutes}) must be at most "
                          f"{{here}}.media_ttl_minutes ({self.media_ttl_minutes}): a list "
                          "that names people lives shorter", at="personal_media_ttl_minutes")
        if self.throttle_retry_seconds > self.quota_pause_max_seconds:
            raise problem(f"({self.throttle_retry_seconds:g}) must be at most "
                          f"{{here}}.quota_pause_max_seconds ({self.quota_pause_max_seconds:g})",
                          at="throttle_retry_seconds")
        if self.mode == "webhook" and self.token:
            if self.register_webhook and not self.public_base_url:
                raise problem("is needed in webhook mode: Zalo sends the messages to "
                              "<public_base_url><webhook_path>", at="public_base_url")
            if not self.register_webhook and not self.webhook_secret:
                raise problem("is needed when {here}.register_webhook is false: the bot must "
                              "know the secret the webhook was registered with",
                              at="webhook_secret")
        return self


# ---- [areas], [invites], [link], [reports.monthly], [outbox], [stats], [demo] ------------


class Level(Settings):
    key: Name
    name: Name


class AreasConfig(Settings):
    """``[areas]``: the levels of the area tree, from the top."""

    levels: tuple[Level, ...] = Field((
        Level(key="province", name="Tỉnh"),
        Level(key="district", name="Huyện"),
        Level(key="commune", name="Xã"),
        Level(key="village", name="Thôn"),
    ), min_length=1, description='a list of levels, like [{ key = "commune", name = "Xã" }]')
    report_level: Name = "village"

    @model_validator(mode="after")
    def _known_levels(self) -> AreasConfig:
        keys = [level.key for level in self.levels]
        for i, key in enumerate(keys):
            if key in keys[:i]:
                raise problem(f": the level key {key!r} is listed twice", at=f"levels[{i}].key")
        if self.report_level not in keys:
            raise problem(f": {self.report_level!r} is not in {{here}}.levels", at="report_level")
        return self


class InvitesConfig(Settings):
    """``[invites]``: invite codes, and the throttles that keep them from being guessed."""

    ttl_days: Int = Field(14, ge=1)
    max_wrong_codes: Int = Field(5, ge=1, le=100)
    wrong_codes_window_minutes: Int = Field(10, ge=1, le=1440,
                                            description="minutes from 1 to 1440 (a day)")
    max_wrong_codes_per_minute: Int = Field(20, ge=1, le=10000)


class LinkConfig(Settings):
    """``[link]``: linking a person's second messenger with a one-time code."""

    code_ttl_minutes: Int = Field(15, ge=1, le=1440, description="minutes from 1 to 1440 (a day)")
    max_wrong_codes: Int = Field(5, ge=1, le=100)
    wrong_codes_window_minutes: Int = Field(60, ge=1, le=10080,
                                            description="minutes from 1 to 10080 (a week)")


class MonthlyReportConfig(Settings):
    """``[reports.monthly]``."""

    lock_day: Int = Field(10, ge=1, le=28, description="a day from 1 to 28")
    previous_month_until_day: Int = Field(10, ge=0, le=28)
    change_warning_share: Float = Field(0.3, gt=0)
    change_warning_min: Int = Field(3, ge=0)


class ReportsConfig(Settings):
    monthly: MonthlyReportConfig = MonthlyReportConfig()


class OutboxConfig(Settings):
    """``[outbox]``: how the dispatcher delivers what the bot sends on its own."""

    concurrency: Int = Field(8, ge=1, le=256)
    max_attempts: Int = Field(6, ge=1)
    retry_base_seconds: Float = Field(5.0, gt=0)
    retry_max_seconds: Float = Field(900.0, gt=0)
    progress_every_seconds: Float = Field(60.0, gt=0)
    progress_min_recipients: Int = Field(20, ge=0)
    prefer_channel: Literal["last_used", "telegram", "zalo"] = "last_used"
    # a message waits while its recipient is in a dialog (0: never)
    dialog_hold_minutes: Float = Field(30.0, ge=0, le=24 * 60,
                                       description="minutes from 0 to 1440 (a day)")
    # «Nhắc lại» reaches nobody reminded this recently
    remind_again_minutes: Float = Field(60.0, ge=0, le=24 * 60,
                                        description="minutes from 0 to 1440 (a day)")

    @model_validator(mode="after")
    def _retries(self) -> OutboxConfig:
        if self.retry_base_seconds > self.retry_max_seconds:
            raise problem("must be at most {here}.retry_max_seconds", at="retry_base_seconds")
        return self


class StatsConfig(Settings):
    """``[stats]``: statistics and charts for officers."""

    baseline_year: Int = Field(0, description="a year like 2022, or 0 for the first year of "
                                              "the poverty standard in force")
    chart_workers: Int = Field(2, ge=0, le=16)
    carry_months: Int = Field(12, ge=0, le=36)

    @field_validator("baseline_year")
    @classmethod
    def _a_year(cls, year: int) -> int:
        if year and not 1990 <= year <= 2999:
            raise problem("must be a year like 2022, or 0 for the first year of the poverty "
                          "standard in force")
        return year


class DemoConfig(Settings):
    path: Path = Path("var/demo.sqlite3")


# ---- [targets], [awards] (DOMAIN §5) -------------------------------------------------------

Points = Annotated[float, Strict(), Field(ge=0, le=50)]
POINTS_RANGE = "a number from 0 to 50 (percentage points a year)"


class AreaTarget(Settings):
    """``[[targets.areas]]``: an area (code or name) with its own target or flag."""

    area: Name = Field(description="an area's official code or name")
    points_per_year: Points | None = Field(None, description=POINTS_RANGE)
    ethnic_minority: Bool = False
    _setting: str = PrivateAttr("")

    @property
    def setting(self) -> str:
        """Where it was configured, for error messages: ``targets.areas[0]``."""
        return self._setting


class TargetsConfig(Settings):
    points_per_year: Points = Field(1.5, description=POINTS_RANGE)
    ethnic_minority_factor: Float = Field(1.5, ge=1, le=5)
    areas: tuple[AreaTarget, ...] = ()

    @model_validator(mode="after")
    def _name_entries(self) -> TargetsConfig:
        for i, entry in enumerate(self.areas):
            entry._setting = f"targets.areas[{i}]"
        return self


class AwardsConfig(Settings):
    points_per_year: Points = Field(4.0, description=POINTS_RANGE)
    consecutive_years: Int = Field(3, ge=1, le=10)
    halved_share: Float = Field(0.5, gt=0, lt=1,
                                description="a share between 0 and 1 (0.5 is 50 %)")
    rules: dict[str, tuple[AwardRule, ...]] = Field(
        {"district": ("points", "halved"), "commune": ("halved",), "village": ("halved",)},
        description='a table of levels and their rules, like { commune = ["halved"] }')

    def rules_for(self, level: str) -> tuple[str, ...]:
        return self.rules.get(level, ())


# ---- [calendar] (DOMAIN §6) ----------------------------------------------------------------


class Schedule(Settings):
    """Reminders around one report's due date, in days from it (negative: before)."""

    reminders: tuple[Int, ...]
    escalate_after: Int  # days after the due date: each commune officer gets the late list
    digest_after: Int  # days after the due date: the officers above get a digest

    def span(self) -> tuple[int, int]:
        """The first and last day, from the due date, on which this schedule sends."""
        days = (*self.reminders, self.escalate_after, self.digest_after)
        return min(days), max(days)


REMINDERS = "a list of days from the due date, like [-3, 0, 2]"


class _Scheduled(Settings):
    """A report's reminders, escalation and digest, as written in its table."""

    reminders: tuple[Int, ...] = Field(min_length=1, description=REMINDERS)
    escalate_after: Int = Field(ge=0, description="0 or more days after the due date")
    digest_after: Int

    @field_validator("reminders")
    @classmethod
    def _once_each(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(days)) != len(days):
            raise problem(f"lists a day twice: {list(days)}")
        return tuple(sorted(days))

    @model_validator(mode="after")
    def _in_order(self) -> _Scheduled:
        if self.digest_after < self.escalate_after:
            raise problem("must not come before {here}.escalate_after", at="digest_after")
        first, last = self.schedule.span()
        if first < -60 or last > 60:
            raise problem(": reminders and escalations must fall within 60 days of the due "
                          "date", setting="{here}")
        return self

    @property
    def schedule(self) -> Schedule:
        return Schedule.model_construct(reminders=self.reminders,
                                        escalate_after=self.escalate_after,
                                        digest_after=self.digest_after)


class MonthlyCalendar(_Scheduled):
    """``[calendar.monthly]``: the report of month M is due on ``due_day`` of month M+1."""

    due_day: Int = Field(5, ge=1, le=28, description="a day from 1 to 28")
    reminders: tuple[Int, ...] = Field((-3, 0, 2), min_length=1, description=REMINDERS)
    escalate_after: Int = Field(2, ge=0, description="0 or more days after the due date")
    digest_after: Int = 3

    @model_validator(mode="after")
    def _within_a_month(self) -> MonthlyCalendar:
        first, last = self.schedule.span()
        if self.due_day + first < 1:
            raise problem(f": the first reminder ({first} days from day {self.due_day}) would "
                          "come before the month being reported is over", at="reminders")
        if last - first >= 28:
            raise problem(f": reminders span {last - first} days, so the windows of two months "
                          "would overlap (at most 27)", setting="{here}")
        return self

    def due(self, month: Any) -> date:
        """The due date of the report of ``month`` (anything with ``year`` and ``month``,
        like ``reports.periods.Month``)."""
        year, index = divmod(month.year * 12 + month.month, 12)  # the following month
        return date(year, index + 1, self.due_day)


class YearlyReportCalendar(_Scheduled):
    """A report made once a year: the villages' due date, then the communes'."""

    due: MonthDay
    commune_due: MonthDay

    @model_validator(mode="after")
    def _communes_after_villages(self) -> YearlyReportCalendar:
        if self.commune_due.ordinal < self.due.ordinal:
            raise problem(f"({self.commune_due.label}) must not come before {{here}}.due "
                          f"({self.due.label}): communes compile their villages' reports",
                          at="commune_due")
        return self

    def window(self) -> tuple[int, int]:
        """(first, last) day of the year, as ordinals in 2001, on which it sends anything."""
        first, last = self.schedule.span()
        return (min(self.due.ordinal, self.commune_due.ordinal) + first,
                max(self.due.ordinal, self.commune_due.ordinal) + last)


class Window(Settings):
    """A stretch of the year: a notice goes out on its first day."""

    start: MonthDay
    end: MonthDay

    @model_validator(mode="after")
    def _forwards(self) -> Window:
        if self.end.ordinal < self.start.ordinal:
            raise problem(f": end ({self.end.label}) comes before start ({self.start.label})",
                          setting="{here}")
        return self


PARTS = ("monthly", "half_year", "yearly", "peak_month", "annual_review")


def _completed(raw: object, base: BaseModel) -> object:
    """A table completed from ``base``: what it does not set, it inherits."""
    if isinstance(raw, dict):
        return {**{name: getattr(base, name) for name in type(base).model_fields}, **raw}
    return raw


class Calendar(Settings):
    """When each report is due and when to remind; a part not configured, or a key of it,
    comes from the defaults below (an override's, from the default calendar)."""

    monthly: MonthlyCalendar = MonthlyCalendar()
    half_year: YearlyReportCalendar = YearlyReportCalendar(
        due="06-20", commune_due="06-25", reminders=(-7, -1, 0, 3), escalate_after=3,
        digest_after=5)
    yearly: YearlyReportCalendar = YearlyReportCalendar(
        due="11-20", commune_due="12-30", reminders=(-10, -3, 0, 3), escalate_after=3,
        digest_after=5)
    peak_month: Window = Window(start="10-17", end="11-18")
    annual_review: Window = Window(start="09-01", end="12-14")

    @model_validator(mode="before")
    @classmethod
    def _inherit(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        return {**data, **{part: _completed(data[part], cls.model_fields[part].default)
                           for part in PARTS if part in data}}

    @model_validator(mode="after")
    def _apart(self) -> Calendar:
        h1_first, h1_last = self.half_year.window()
        y_first, y_last = self.yearly.window()
        if h1_last >= y_first or y_last - 365 >= h1_first:
            raise problem(": their reminder windows overlap (from the first reminder to the "
                          "last escalation); move a due date or shorten the reminders",
                          setting="{here}.half_year and {here}.yearly")
        return self


class AreaCalendar(Calendar):
    """``[[calendar.overrides]]``: the calendar of the areas under ``area`` (a code or a
    name, as configured)."""

    area: Name = Field(description="an area's official code or name")
    _setting: str = PrivateAttr("")

    @property
    def calendar(self) -> Calendar:
        return self

    @property
    def setting(self) -> str:
        """Where it was configured, for error messages: ``calendar.overrides[0]``."""
        return self._setting


class CalendarConfig(Calendar):
    """``[calendar]``: the default calendar (its parts are tables of ``[calendar]`` itself),
    overrides per area, and the sending hours."""

    send_time: ClockTime = time(8, 0)
    quiet_start: ClockTime = time(21, 0)
    quiet_end: ClockTime = time(7, 0)
    overrides: tuple[AreaCalendar, ...] = ()

    @property
    def default(self) -> Calendar:
        """The calendar of every area no override contains (index 0 of ``calendars``)."""
        return self

    @field_validator("overrides", mode="before")
    @classmethod
    def _inherit_default(cls, raw: object, info) -> object:
        """What an override does not set, it takes from the default calendar."""
        if not isinstance(raw, list | tuple):
            return raw
        base = {part: info.data.get(part, cls.model_fields[part].default) for part in PARTS}
        return [{**entry, **{part: _completed(entry.get(part, base[part]), base[part])
                             for part in PARTS}}
                if isinstance(entry, dict) else entry for entry in raw]

    @model_validator(mode="after")
    def _check(self) -> CalendarConfig:
        seen: set[str] = set()
        for i, override in enumerate(self.overrides):
            override._setting = f"calendar.overrides[{i}]"
            if override.area.casefold() in seen:
                raise problem(f": {override.area!r} is overridden twice",
                              at=f"overrides[{i}].area")
            seen.add(override.area.casefold())
        if self.in_quiet_hours(self.send_time):
            raise problem(
                f"({self.send_time:%H:%M}) falls in the quiet hours ({{here}}.quiet_start "
                f"{self.quiet_start:%H:%M} – {{here}}.quiet_end {self.quiet_end:%H:%M}), when "
                "nothing is sent", at="send_time")
        return self

    def in_quiet_hours(self, moment: time) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= moment < end
        return moment >= start or moment < end

    def next_sending_time(self, moment: datetime) -> datetime:
        """``moment`` itself, or the end of the quiet hours it falls in (same time zone)."""
        if not self.in_quiet_hours(moment.timetz().replace(tzinfo=None)):
            return moment
        end = datetime.combine(moment.date(), self.quiet_end, moment.tzinfo)
        return end if end > moment else end + timedelta(days=1)


# ---- [poverty]: the national poverty standards (DOMAIN §4) ---------------------------------


class Indicator(Settings):
    """One deprivation indicator: a key of ``INDICATORS`` and the dimension it belongs to."""

    key: str
    dimension: Name

    @field_validator("key")
    @classmethod
    def _known(cls, key: str) -> str:
        if key not in INDICATORS:
            raise problem(f": unknown indicator {key!r} (known: {', '.join(INDICATORS)}; a new "
                          "indicator needs its label and question in common/catalogue.py and "
                          "a line in common/indicators.py)")
        return key


Year = Annotated[int, Strict(), Field(ge=1900, le=2999)]
Dong = Annotated[int, Strict(), Field(gt=0)]


class Standard(Settings):
    """The poverty standard of one decree, valid from ``first_year`` to ``last_year``.

    Amounts are đồng per person per month.
    """

    name: Name
    first_year: Year = Field(description="a year, like 2027")
    last_year: Year = Field(description="a year, not before first_year")
    rural_income_line: Dong = Field(description="an amount above 0 đồng")
    urban_income_line: Dong = Field(description="an amount above 0 đồng")
    min_deprivations_poor: Int
    average_rural_max: Dong
    average_urban_max: Dong
    indicators: tuple[Indicator, ...] = Field(
        min_length=1, description="a list of deprivation indicators, "
                                  'like [{ key = "employment", dimension = "viec_lam" }]')

    @model_validator(mode="after")
    def _consistent(self) -> Standard:
        if self.last_year < self.first_year:
            raise problem("must be a year, not before first_year", at="last_year")
        for area in ("rural", "urban"):
            line, top = f"{area}_income_line", f"average_{area}_max"
            if getattr(self, top) <= getattr(self, line):
                raise problem(f"must be above {{here}}.{line} ({getattr(self, line)}): the "
                              "average band lies above the income line", at=top)
        keys = self.indicator_keys
        for j, key in enumerate(keys):
            if key in keys[:j]:
                raise problem(f": indicator {key!r} is listed twice", at=f"indicators[{j}].key")
        if not 1 <= self.min_deprivations_poor <= len(keys):
            raise problem(f"must be from 1 to {len(keys)} (the number of indicators)",
                          at="min_deprivations_poor")
        return self

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def income_line(self, *, urban: bool) -> int:
        return self.urban_income_line if urban else self.rural_income_line

    def average_max(self, *, urban: bool) -> int:
        return self.average_urban_max if urban else self.average_rural_max

    @property
    def indicator_keys(self) -> tuple[str, ...]:
        return tuple(indicator.key for indicator in self.indicators)

    @property
    def years(self) -> str:
        """``2022–2026``."""
        return f"{self.first_year}–{self.last_year}"


class PovertyConfig(Settings):
    """``[poverty]``: the standards in year order, and the "recently exited" span. A config
    file without ``standards`` takes those of the shipped ``config.toml``."""

    standards: tuple[Standard, ...] = Field(
        min_length=1, description="a list of at least one standard ([[poverty.standards]])")
    recently_exited_months: Int = Field(36, ge=0)

    @model_validator(mode="after")
    def _in_year_order(self) -> PovertyConfig:
        for i in range(1, len(self.standards)):
            before, after = self.standards[i - 1], self.standards[i]
            if after.first_year != before.last_year + 1:
                wrong = ("overlaps the previous standard or is out of order"
                         if after.first_year <= before.last_year
                         else "leaves a gap after the previous standard")
                raise problem(f"{wrong}: it must be {before.last_year + 1}, the year after "
                              f"{{here}}.standards[{i - 1}].last_year (standards are listed "
                              "in year order)", at=f"standards[{i}].first_year")
        return self


@cache
def shipped_poverty() -> PovertyConfig:
    """The ``[poverty]`` section of the ``config.toml`` shipped with the code."""
    try:
        data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
        return PovertyConfig.model_validate(data.get("poverty", {}))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{DEFAULT_CONFIG} (the shipped poverty standards): {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"{DEFAULT_CONFIG} (the shipped poverty standards): "
                          f"{describe(exc, PovertyConfig, ('poverty',))}") from exc


# ---- the whole file -------------------------------------------------------------------------


class Config(BaseSettings):
    """Every setting, one field per table of ``config.toml``; the names the code reads most
    (``timezone``, ``db_path``, ``monthly``, …) are properties over them."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", case_sensitive=True)

    config_dir: Path = Field(ROOT, exclude=True)  # relative paths start here: the file's folder
    bot: BotConfig = BotConfig()
    database: DatabaseConfig = DatabaseConfig()
    telegram: TelegramConfig = TelegramConfig()
    zalo: ZaloConfig = ZaloConfig()
    areas: AreasConfig = AreasConfig()
    invites: InvitesConfig = InvitesConfig()
    link: LinkConfig = LinkConfig()
    reports: ReportsConfig = ReportsConfig()
    calendar: CalendarConfig = CalendarConfig()
    outbox: OutboxConfig = OutboxConfig()
    stats: StatsConfig = StatsConfig()
    targets: TargetsConfig = TargetsConfig()
    awards: AwardsConfig = AwardsConfig()
    demo: DemoConfig = DemoConfig()
    poverty: PovertyConfig = Field(default_factory=shipped_poverty)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        """``Config(...)`` is the code's defaults and the arguments, nothing else: the file
        and the environment come in through :func:`load_config`."""
        return (init_settings,)

    @model_validator(mode="after")
    def _across_tables(self) -> Config:
        keys = self.level_keys()
        for level in self.awards.rules:
            if level not in keys:
                raise problem(f": {level!r} is not in areas.levels", at=f"awards.rules.{level}")
        lock_day = self.reports.monthly.lock_day
        for where, cal in (("calendar", self.calendar.default),
                           *((o.setting, o) for o in self.calendar.overrides)):
            last = cal.monthly.due_day + max(cal.monthly.reminders)
            if last > lock_day:
                raise problem(
                    f": the last reminder (day {last} of the next month) falls after "
                    f"reports.monthly.lock_day ({lock_day}), when village heads can no longer "
                    "file", at=f"{where}.monthly.reminders")
        return self

    # What the code reads, by the names it has always used.
    @property
    def timezone(self) -> ZoneInfo:
        return self.bot.timezone

    @property
    def log_level(self) -> str:
        return self.bot.log_level

    @property
    def event_loop(self) -> str:
        return self.bot.event_loop

    @property
    def db_path(self) -> Path:
        return self.config_dir / self.database.path

    @property
    def db_synchronous(self) -> str:
        return self.database.synchronous

    @property
    def db_busy_timeout_ms(self) -> int:
        return self.database.busy_timeout_ms

    @property
    def inbound_dedup_days(self) -> int:
        return self.database.inbound_dedup_days

    @property
    def levels(self) -> tuple[Level, ...]:
        return self.areas.levels

    @property
    def report_level(self) -> str:
        return self.areas.report_level

    @property
    def invite_ttl_days(self) -> int:
        return self.invites.ttl_days

    @property
    def monthly(self) -> MonthlyReportConfig:
        return self.reports.monthly

    @property
    def demo_path(self) -> Path:
        return self.config_dir / self.demo.path

    def level_name(self, key: str) -> str:
        for level in self.areas.levels:
            if level.key == key:
                return level.name
        return key

    def level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.areas.levels)


# Config's own names for settings of its tables (its properties), as ``replace`` takes them.
FLAT = {
    "timezone": ("bot", "timezone"), "log_level": ("bot", "log_level"),
    "event_loop": ("bot", "event_loop"), "db_path": ("database", "path"),
    "db_synchronous": ("database", "synchronous"),
    "db_busy_timeout_ms": ("database", "busy_timeout_ms"),
    "inbound_dedup_days": ("database", "inbound_dedup_days"), "levels": ("areas", "levels"),
    "report_level": ("areas", "report_level"), "invite_ttl_days": ("invites", "ttl_days"),
    "monthly": ("reports", "monthly"), "demo_path": ("demo", "path"),
}

Model = typing.TypeVar("Model", bound=BaseModel)


def replace(model: Model, /, **changes: Any) -> Model:
    """A copy of settings with ``changes``, validated again, as ``dataclasses.replace`` (for
    tests, benchmarks and the demo). On a :class:`Config` the names of its properties work
    too: ``replace(config, db_path=…)``."""
    if isinstance(model, Config):
        for name in [name for name in changes if name in FLAT]:
            table, key = FLAT[name]
            changes[table] = {**dict(changes.get(table, getattr(model, table))),
                              key: changes.pop(name)}
    return type(model)(**{**dict(model), **changes})


# ---- reading the file and the environment ---------------------------------------------------


class EnvironmentSource(PydanticBaseSettingsSource):
    """The variables of :data:`ENVIRONMENT` that are set (not empty), as their tables."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]):
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the variables itself

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for variable, (table, key) in ENVIRONMENT.items():
            value = (self.env.get(variable) or "").strip()
            if value:
                found.setdefault(table, {})[key] = value
        return found


class FileSource(TomlConfigSettingsSource):
    """``config.toml``, where no secret may be written; relative paths start at its folder."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        super().__init__(settings_cls, toml_file=path)
        self.path = path

    def __call__(self) -> dict[str, Any]:
        data = dict(super().__call__())
        for variable in SECRETS:
            table, key = ENVIRONMENT[variable]
            if isinstance(data.get(table), dict) and key in data[table]:
                raise ConfigError(f"setting {table}.{key} must not be in the config file: set "
                                  f"the environment variable {variable} instead")
        if "config_dir" in data:
            raise ConfigError("setting config_dir is not a setting of the config file")
        data["config_dir"] = self.path.resolve().parent
        return data


class ShippedStandards(PydanticBaseSettingsSource):
    """The poverty standards of the shipped ``config.toml``, under those of another file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ gives the table itself

    def __call__(self) -> dict[str, Any]:
        return {"poverty": {"standards": shipped_poverty().standards}}


def load_config(path: str | os.PathLike | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (default ``config.toml``, or ``$GIAMNGHEO_CONFIG``) and the
    environment (``os.environ``, or ``env``); ConfigError naming each wrong setting."""
    env = os.environ if env is None else env
    path = Path(path or env.get("GIAMNGHEO_CONFIG") or DEFAULT_CONFIG)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        file = FileSource(Config, path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from exc
    sources: list[PydanticBaseSettingsSource] = [EnvironmentSource(Config, env), file]
    if path.resolve() != DEFAULT_CONFIG.resolve():
        sources.append(ShippedStandards(Config))
    try:
        # pydantic-settings' documented way to hand a settings class its sources.
        return Config(_build_sources=(tuple(sources), {}))
    except ValidationError as exc:
        raise ConfigError(describe(exc, Config, (), file.toml_data, env)) from None


# ---- what an administrator reads ------------------------------------------------------------


def dotted(loc: tuple[str | int, ...]) -> str:
    """``('poverty', 'standards', 0, 'name')`` → ``poverty.standards[0].name``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model(annotation: object) -> type[BaseModel] | None:
    """The model a field's values are (through ``X | None``, ``tuple[X, ...]``,
    ``dict[str, X]`` and ``Annotated``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, dict):
        for arg in typing.get_args(annotation):
            if (found := _model(arg)) is not None:
                return found
    return None


def _field(root: type[BaseModel], loc: tuple[str | int, ...]
           ) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the setting at ``loc``, and its field (None for an item of a
    list, or a key the model does not have)."""
    model: type[BaseModel] | None = root
    holder, info = root, None
    for part in loc:
        if isinstance(part, int) or model is None:
            info = None  # an item of a list, or of a table of tables: the same model
            continue
        holder, info = model, model.model_fields.get(part)
        if info is None:
            break
        model = _model(info.annotation)
    return holder, info


def _bounds(info: FieldInfo | None) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in info.metadata if info else ():
        for name in ("ge", "gt", "le", "lt"):
            if isinstance(item, getattr(annotated_types, name.capitalize())):
                found[name] = getattr(item, name)
    return found


def _range(bounds: dict[str, object]) -> str:
    low = (f"from {bounds['ge']}" if "ge" in bounds else
           f"above {bounds['gt']}" if "gt" in bounds else "")
    high = (f"to {bounds['le']}" if "le" in bounds else
            f"below {bounds['lt']}" if "lt" in bounds else "")
    if "ge" in bounds and not high:
        return f"{bounds['ge']} or more"
    if "le" in bounds and not low:
        return f"at most {bounds['le']}"
    if "gt" in bounds and "lt" in bounds:
        return f"between {bounds['gt']} and {bounds['lt']}"
    return " ".join(x for x in (low, high) if x)


_KINDS = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float":
    "a whole number", "float_type": "a number", "float_parsing": "a number",
    "string_type": "text in quotes", "bool_type": "true or false", "bool_parsing":
    "true or false", "tuple_type": "a list [...]", "list_type": "a list [...]",
    "model_type": "a table", "model_attributes_type": "a table", "dict_type": "a table",
    "path_type": "a file path in quotes", "time_type": 'a time of day like "08:00"',
    "zoneinfo_type": 'a time zone like "Asia/Ho_Chi_Minh"',
    "zoneinfo_str": 'a time zone like "Asia/Ho_Chi_Minh"',
}


def _phrase(error: dict, model: type[BaseModel] | None, info: FieldInfo | None) -> str:
    """What is wrong with one setting, after its name: "must be …", "is missing", ": …"."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "setting":
        return error["msg"]
    if kind == "missing":
        return "is missing" + (f" ({info.description})" if info and info.description else "")
    if kind == "extra_forbidden":
        known = [name for name, f in (model.model_fields if model else {}).items()
                 if not f.exclude]
        return f"is not a setting here (expected: {', '.join(known)})"
    if kind == "zoneinfo_str" and isinstance(value, str):
        return f": unknown time zone {value!r}"
    shown = "" if isinstance(value, dict) else f", not {value!r}"
    if info is not None and info.description:
        return f"must be {info.description}{shown}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"must be {_range(_bounds(info) or ctx)}{shown}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "one of the allowed words")).replace("'", '"')
        return f"must be {expected}{shown}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "string_pattern_mismatch":  # the only patterns are those of addresses
        return f"must start with http:// or https://{shown}"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}{shown}"
    return f": {error['msg'][:1].lower()}{error['msg'][1:]}"


def _label(data: object, loc: tuple[str | int, ...]) -> str:
    """`` (name)`` of the nearest table on the way that has one (a poverty standard)."""
    label = ""
    for part in loc[:-1]:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            break
        if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"].strip():
            label = f" ({data['name'].strip()})"
    return label


def describe(exc: ValidationError, root: type[BaseModel] = Config,
             prefix: tuple[str | int, ...] = (), data: object = None,
             env: Mapping[str, str] | None = None) -> str:
    """One line per wrong setting, for a person: ``setting a.b must be …``."""
    secrets = {ENVIRONMENT[v]: v for v in SECRETS}
    overridden = {where: v for v, where in ENVIRONMENT.items() if (env or {}).get(v)}
    errors = exc.errors()
    lines: list[str] = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and any(
                tuple(e["loc"])[:len(loc)] == loc and e is not error for e in errors):
            continue  # a list whose items are wrong: pydantic counts only the right ones
        ctx = error.get("ctx") or {}
        here = dotted(prefix + loc)
        if ctx.get("setting"):
            name = ctx["setting"].replace("{here}", here)
            where = loc
        else:
            at = tuple(int(p) if p.isdigit() else p
                       for p in re.split(r"\.|\[|\]\.?", ctx.get("at", "")) if p)
            where = loc + at
            name = dotted(prefix + where)
        model, info = _field(root, where)
        phrase = _phrase({**error, "loc": where or ("",)}, model, info).replace("{here}", here)
        tail = phrase if phrase.startswith(":") else " " + phrase
        key = tuple(prefix + where)[-2:]
        if key in secrets:
            lines.append(f"{secrets[key]}{tail}")
            continue
        if key in overridden and len(prefix + where) == 2:
            name += f" (set by {overridden[key]})"
        line = f"setting {name}{_label(data, prefix + where)}{tail}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)

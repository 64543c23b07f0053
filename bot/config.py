"""Configuration: ``config.toml`` plus environment overrides, read once at start-up."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reports.awards import RULES, AreaTarget, AwardsConfig, TargetsConfig
from reports.calendar import (
    HALF_YEAR,
    YEARLY,
    AreaCalendar,
    Calendar,
    CalendarConfig,
    DayOfYear,
    MonthlyCalendar,
    Schedule,
    Window,
    YearlyReportCalendar,
    window_span,
)
from reports.poverty import INDICATORS, Indicator, PovertyConfig, Standard

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.toml"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting."""


@dataclass(frozen=True)
class Level:
    key: str
    name: str


@dataclass(frozen=True)
class MonthlyReportConfig:
    lock_day: int = 10
    previous_month_until_day: int = 10
    change_warning_share: float = 0.3
    change_warning_min: int = 3


@dataclass(frozen=True)
class OutboxConfig:
    """How the dispatcher delivers what the bot sends on its own (``[outbox]``)."""

    concurrency: int = 8
    max_attempts: int = 6
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 900.0
    progress_every_seconds: float = 60.0
    progress_min_recipients: int = 20
    prefer_channel: str = "last_used"


@dataclass(frozen=True)
class LinkConfig:
    """``[link]``: linking a person's second messenger with a one-time code."""

    code_ttl_minutes: int = 15
    max_wrong_codes: int = 5
    wrong_codes_window_minutes: int = 60


@dataclass(frozen=True)
class StatsConfig:
    """``[stats]``: statistics and charts for officers."""

    baseline_year: int = 0  # 0: the first year of the poverty standard in force
    chart_workers: int = 2
    carry_months: int = 12


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    username: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = 30
    overall_max_rate: float = 30
    group_max_rate: float = 20
    per_chat_interval: float = 1.0
    concurrent_updates: int = 64


@dataclass(frozen=True)
class ZaloConfig:
    """The Zalo channel (Zalo Bot Platform). ``token`` and ``webhook_secret`` come from the
    environment only."""

    token: str = ""
    webhook_secret: str = ""
    base_url: str = "https://bot-api.zaloplatforms.com"
    mode: str = "webhook"  # webhook | polling
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    webhook_path: str = "/zalo/webhook"
    public_base_url: str = ""
    register_webhook: bool = True
    poll_timeout: int = 30
    request_timeout: float = 15.0
    max_rate: float = 10.0
    per_chat_interval: float = 1.0
    concurrent_updates: int = 64
    media_ttl_minutes: int = 60
    throttle_retry_seconds: float = 30.0  # the first pause after a 429 «Quota exceeded»
    quota_pause_max_seconds: float = 3600.0  # each 429 in a row doubles the pause up to this
    transient_retries: int = 2  # a reply refused with «Internal server error»: tries again
    blocked_patterns: tuple[str, ...] = ("block", "chặn", "unfollow", "not follow")
    window_patterns: tuple[str, ...] = (
        "window", "interact", "tương tác", "expired", "hết hạn", "out of time", "48h", "24h",
    )


@dataclass(frozen=True)
class Config:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    log_level: str = "INFO"
    event_loop: str = "uvloop"  # uvloop | asyncio
    db_path: Path = ROOT / "var" / "giamngheo.sqlite3"
    db_synchronous: str = "NORMAL"
    db_busy_timeout_ms: int = 5000
    inbound_dedup_days: int = 14
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    zalo: ZaloConfig = field(default_factory=ZaloConfig)
    levels: tuple[Level, ...] = (
        Level("province", "Tỉnh"),
        Level("district", "Huyện"),
        Level("commune", "Xã"),
        Level("village", "Thôn"),
    )
    report_level: str = "village"
    invite_ttl_days: int = 14
    link: LinkConfig = field(default_factory=LinkConfig)
    monthly: MonthlyReportConfig = field(default_factory=MonthlyReportConfig)
    demo_path: Path = ROOT / "var" / "demo.sqlite3"
    # The standards of the shipped config.toml (a lambda: shipped_poverty is defined below).
    poverty: PovertyConfig = field(default_factory=lambda: shipped_poverty())
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    awards: AwardsConfig = field(default_factory=AwardsConfig)

    def level_name(self, key: str) -> str:
        for level in self.levels:
            if level.key == key:
                return level.name
        return key

    def level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.levels)


def _get(table: dict, dotted: str, kind: type, default):
    value = table.get(dotted.rsplit(".", 1)[-1], default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"setting {dotted} must be a {kind.__name__}, not {value!r}")
    return value


def _path(value: str, base: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base / path


def load_config(path: str | os.PathLike | None = None, env: dict | None = None) -> Config:
    """Read the config file (default ``config.toml``, or ``$GIAMNGHEO_CONFIG``) and the env."""
    env = os.environ if env is None else env
    path = Path(path or env.get("GIAMNGHEO_CONFIG") or DEFAULT_CONFIG)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    base = path.resolve().parent

    botc = data.get("bot", {})
    tz_name = _get(botc, "bot.timezone", str, "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"setting bot.timezone: unknown time zone {tz_name!r}") from exc

    dbc = data.get("database", {})
    synchronous = _get(dbc, "database.synchronous", str, "NORMAL").upper()
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ConfigError("setting database.synchronous must be NORMAL, FULL, EXTRA or OFF")

    tg = data.get("telegram", {})
    telegram = TelegramConfig(
        token=env.get("GIAMNGHEO_TELEGRAM_TOKEN", "").strip(),
        username=(
            env.get("GIAMNGHEO_TELEGRAM_USERNAME") or _get(tg, "telegram.username", str, "")
        ).lstrip("@"),
        base_url=_get(tg, "telegram.base_url", str, TelegramConfig.base_url),
        base_file_url=_get(tg, "telegram.base_file_url", str, TelegramConfig.base_file_url),
        poll_timeout=_get(tg, "telegram.poll_timeout", int, 30),
        overall_max_rate=_get(tg, "telegram.overall_max_rate", float, 30.0),
        group_max_rate=_get(tg, "telegram.group_max_rate", float, 20.0),
        per_chat_interval=_get(tg, "telegram.per_chat_interval", float, 1.0),
        concurrent_updates=_get(tg, "telegram.concurrent_updates", int, 64),
    )
    if "token" in tg:
        raise ConfigError(
            "setting telegram.token must not be in the config file: "
            "set the environment variable GIAMNGHEO_TELEGRAM_TOKEN instead"
        )

    areas = data.get("areas", {})
    raw_levels = areas.get("levels")
    levels = Config.levels
    if raw_levels is not None:
        try:
            levels = tuple(Level(str(lv["key"]), str(lv["name"])) for lv in raw_levels)
        except (TypeError, KeyError) as exc:
            raise ConfigError("setting areas.levels: each level needs a key and a name") from exc
        if not levels or len({lv.key for lv in levels}) != len(levels):
            raise ConfigError("setting areas.levels: level keys must be present and distinct")
    report_level = _get(areas, "areas.report_level", str, "village")
    if report_level not in {lv.key for lv in levels}:
        raise ConfigError(f"setting areas.report_level: {report_level!r} is not in areas.levels")

    monthly_raw = data.get("reports", {}).get("monthly", {})
    monthly = MonthlyReportConfig(
        lock_day=_get(monthly_raw, "reports.monthly.lock_day", int, 10),
        previous_month_until_day=_get(
            monthly_raw, "reports.monthly.previous_month_until_day", int, 10
        ),
        change_warning_share=_get(monthly_raw, "reports.monthly.change_warning_share", float, 0.3),
        change_warning_min=_get(monthly_raw, "reports.monthly.change_warning_min", int, 3),
    )
    if not 1 <= monthly.lock_day <= 28:
        raise ConfigError("setting reports.monthly.lock_day must be a day from 1 to 28")
    if not 0 <= monthly.previous_month_until_day <= 28:
        raise ConfigError("setting reports.monthly.previous_month_until_day must be 0 to 28")
    if monthly.change_warning_share <= 0:
        raise ConfigError("setting reports.monthly.change_warning_share must be above 0")

    if telegram.overall_max_rate <= 0 or telegram.per_chat_interval < 0:
        raise ConfigError("setting telegram.overall_max_rate must be above 0 and "
                          "telegram.per_chat_interval 0 or more")

    db_path = env.get("GIAMNGHEO_DB") or _get(dbc, "database.path", str, "var/giamngheo.sqlite3")
    return Config(
        timezone=tz,
        log_level=_get(botc, "bot.log_level", str, "INFO").upper(),
        event_loop=_event_loop(_get(botc, "bot.event_loop", str, "uvloop")),
        db_path=_path(db_path, base),
        db_synchronous=synchronous,
        db_busy_timeout_ms=_get(dbc, "database.busy_timeout_ms", int, 5000),
        inbound_dedup_days=_get(dbc, "database.inbound_dedup_days", int, 14),
        telegram=telegram,
        zalo=_zalo(data.get("zalo", {}), env),
        levels=levels,
        report_level=report_level,
        invite_ttl_days=_get(data.get("invites", {}), "invites.ttl_days", int, 14),
        link=_link(data.get("link", {})),
        monthly=monthly,
        demo_path=_path(
            _get(data.get("demo", {}), "demo.path", str, "var/demo.sqlite3"), base
        ),
        poverty=_poverty(
            data.get("poverty", {}),
            shipped=None if path.resolve() == DEFAULT_CONFIG.resolve() else shipped_poverty,
        ),
        calendar=_calendar(data.get("calendar", {}), monthly),
        outbox=_outbox(data.get("outbox", {})),
        stats=_stats(data.get("stats", {})),
        targets=_targets(data.get("targets", {})),
        awards=_awards(data.get("awards", {}), levels),
    )


def _event_loop(name: str) -> str:
    if name not in ("uvloop", "asyncio"):
        raise ConfigError('setting bot.event_loop must be "uvloop" or "asyncio"')
    return name


# --- [zalo] ----------------------------------------------------------------------------------


def _zalo(section: object, env) -> ZaloConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting zalo must be a table")
    for secret in ("token", "webhook_secret"):
        if secret in section:
            name = "GIAMNGHEO_ZALO_TOKEN" if secret == "token" else "GIAMNGHEO_ZALO_SECRET"
            raise ConfigError(f"setting zalo.{secret} must not be in the config file: "
                              f"set the environment variable {name} instead")
    _known(section, "zalo", (
        "base_url", "mode", "listen_host", "listen_port", "webhook_path", "public_base_url",
        "register_webhook", "poll_timeout", "request_timeout", "max_rate", "per_chat_interval",
        "concurrent_updates", "media_ttl_minutes", "throttle_retry_seconds",
        "quota_pause_max_seconds", "transient_retries", "blocked_patterns", "window_patterns"))
    d = ZaloConfig()

    def patterns(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = section.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"setting zalo.{name} must be a list of words")
        return tuple(v.lower() for v in value)

    cfg = ZaloConfig(
        token=env.get("GIAMNGHEO_ZALO_TOKEN", "").strip(),
        webhook_secret=env.get("GIAMNGHEO_ZALO_SECRET", "").strip(),
        base_url=_get(section, "zalo.base_url", str, d.base_url).rstrip("/"),
        mode=_get(section, "zalo.mode", str, d.mode).lower(),
        listen_host=_get(section, "zalo.listen_host", str, d.listen_host),
        listen_port=_get(section, "zalo.listen_port", int, d.listen_port),
        webhook_path="/" + _get(section, "zalo.webhook_path", str, d.webhook_path).strip("/"),
        public_base_url=(env.get("GIAMNGHEO_ZALO_PUBLIC_URL")
                         or _get(section, "zalo.public_base_url", str, "")).rstrip("/"),
        register_webhook=_get(section, "zalo.register_webhook", bool, d.register_webhook),
        poll_timeout=_get(section, "zalo.poll_timeout", int, d.poll_timeout),
        request_timeout=_get(section, "zalo.request_timeout", float, d.request_timeout),
        max_rate=_get(section, "zalo.max_rate", float, d.max_rate),
        per_chat_interval=_get(section, "zalo.per_chat_interval", float, d.per_chat_interval),
        concurrent_updates=_get(section, "zalo.concurrent_updates", int,
                                d.concurrent_updates),
        media_ttl_minutes=_get(section, "zalo.media_ttl_minutes", int, d.media_ttl_minutes),
        throttle_retry_seconds=_get(section, "zalo.throttle_retry_seconds", float,
                                    d.throttle_retry_seconds),
        quota_pause_max_seconds=_get(section, "zalo.quota_pause_max_seconds", float,
                                     d.quota_pause_max_seconds),
        transient_retries=_get(section, "zalo.transient_retries", int, d.transient_retries),
        blocked_patterns=patterns("blocked_patterns", d.blocked_patterns),
        window_patterns=patterns("window_patterns", d.window_patterns),
    )
    if cfg.mode not in ("webhook", "polling"):
        raise ConfigError("setting zalo.mode must be \"webhook\" or \"polling\"")
    if not 1 <= cfg.listen_port <= 65535:
        raise ConfigError("setting zalo.listen_port must be a port number (1–65535)")
    if cfg.webhook_secret and not 8 <= len(cfg.webhook_secret) <= 256:
        raise ConfigError("GIAMNGHEO_ZALO_SECRET must be 8 to 256 characters (Zalo's limit)")
    for name, value in (("base_url", cfg.base_url), ("public_base_url", cfg.public_base_url)):
        if value and not value.startswith(("http://", "https://")):
            raise ConfigError(f"setting zalo.{name} must start with http:// or https://")
    if cfg.mode == "webhook" and cfg.token and cfg.register_webhook and not cfg.public_base_url:
        raise ConfigError("setting zalo.public_base_url is needed in webhook mode: Zalo sends "
                          "the messages to <public_base_url><webhook_path>")
    if (cfg.mode == "webhook" and cfg.token and not cfg.register_webhook
            and not cfg.webhook_secret):
        raise ConfigError("GIAMNGHEO_ZALO_SECRET is needed when zalo.register_webhook is "
                          "false: the bot must know the secret the webhook was registered with")
    if cfg.max_rate <= 0 or cfg.per_chat_interval < 0:
        raise ConfigError("setting zalo.max_rate must be above 0 and zalo.per_chat_interval "
                          "0 or more")
    if cfg.poll_timeout < 1 or cfg.request_timeout <= 0 or cfg.concurrent_updates < 1:
        raise ConfigError("settings zalo.poll_timeout, zalo.request_timeout and "
                          "zalo.concurrent_updates must be above 0")
    if not 1 <= cfg.media_ttl_minutes <= 7 * 24 * 60:
        raise ConfigError("setting zalo.media_ttl_minutes must be 1 to 10080 (a week)")
    if not 0 < cfg.throttle_retry_seconds <= cfg.quota_pause_max_seconds:
        raise ConfigError("settings zalo.throttle_retry_seconds and "
                          "zalo.quota_pause_max_seconds must be above 0, the first at most "
                          "the second")
    if not 0 <= cfg.transient_retries <= 5:
        raise ConfigError("setting zalo.transient_retries must be 0 to 5")
    return cfg


# --- [link] -------------------------------------------------------------------------------


def _link(section: object) -> LinkConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting link must be a table ([link])")
    _known(section, "link", ("code_ttl_minutes", "max_wrong_codes",
                             "wrong_codes_window_minutes"))
    d = LinkConfig()
    cfg = LinkConfig(
        code_ttl_minutes=_get(section, "link.code_ttl_minutes", int, d.code_ttl_minutes),
        max_wrong_codes=_get(section, "link.max_wrong_codes", int, d.max_wrong_codes),
        wrong_codes_window_minutes=_get(section, "link.wrong_codes_window_minutes", int,
                                        d.wrong_codes_window_minutes),
    )
    if not 1 <= cfg.code_ttl_minutes <= 1440:
        raise ConfigError("setting link.code_ttl_minutes must be from 1 to 1440 (a day)")
    if not 1 <= cfg.max_wrong_codes <= 100:
        raise ConfigError("setting link.max_wrong_codes must be from 1 to 100")
    if not 1 <= cfg.wrong_codes_window_minutes <= 10080:
        raise ConfigError("setting link.wrong_codes_window_minutes must be from 1 to 10080 "
                          "(a week)")
    return cfg


# --- [stats], [targets], [awards] ----------------------------------------------------------


def _stats(section: object) -> StatsConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting stats must be a table ([stats])")
    _known(section, "stats", ("baseline_year", "chart_workers", "carry_months"))
    d = StatsConfig()
    cfg = StatsConfig(
        baseline_year=_get(section, "stats.baseline_year", int, d.baseline_year),
        chart_workers=_get(section, "stats.chart_workers", int, d.chart_workers),
        carry_months=_get(section, "stats.carry_months", int, d.carry_months),
    )
    if cfg.baseline_year and not 1990 <= cfg.baseline_year <= 2999:
        raise ConfigError("setting stats.baseline_year must be a year like 2022, or 0 for the "
                          "first year of the poverty standard in force")
    if not 0 <= cfg.chart_workers <= 16:
        raise ConfigError("setting stats.chart_workers must be from 0 (no process pool) to 16")
    if not 0 <= cfg.carry_months <= 36:
        raise ConfigError("setting stats.carry_months must be from 0 to 36")
    return cfg


def _points(section: dict, dotted: str, default: float | None) -> float | None:
    value = section.get(dotted.rsplit(".", 1)[-1], default)
    if value is None:
        return None
    value = _get(section, dotted, float, default)
    if not 0 <= value <= 50:
        raise ConfigError(f"setting {dotted} must be from 0 to 50 percentage points a year")
    return value


def _targets(section: object) -> TargetsConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting targets must be a table ([targets])")
    _known(section, "targets", ("points_per_year", "ethnic_minority_factor", "areas"))
    d = TargetsConfig()
    factor = _get(section, "targets.ethnic_minority_factor", float, d.ethnic_minority_factor)
    if not 1 <= factor <= 5:
        raise ConfigError("setting targets.ethnic_minority_factor must be from 1 to 5")
    raw = section.get("areas", [])
    if not isinstance(raw, list):
        raise ConfigError("setting targets.areas must be a list of tables ([[targets.areas]])")
    entries = []
    for i, entry in enumerate(raw):
        where = f"targets.areas[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"setting {where} must be a table ([[targets.areas]])")
        _known(entry, where, ("area", "points_per_year", "ethnic_minority"))
        area = _get(entry, f"{where}.area", str, "").strip()
        if not area:
            raise ConfigError(f"setting {where}.area must name an area (its code or name)")
        entries.append(AreaTarget(area, _points(entry, f"{where}.points_per_year", None),
                                  _get(entry, f"{where}.ethnic_minority", bool, False), where))
    return TargetsConfig(_points(section, "targets.points_per_year", d.points_per_year),
                         factor, tuple(entries))


def _awards(section: object, levels: tuple[Level, ...]) -> AwardsConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting awards must be a table ([awards])")
    _known(section, "awards", ("points_per_year", "consecutive_years", "halved_share",
                               "rules"))
    d = AwardsConfig()
    rules = section.get("rules", d.rules)
    if not isinstance(rules, dict):
        raise ConfigError("setting awards.rules must map a level to its rules, like "
                          '{ commune = ["halved"] }')
    keys = {lv.key for lv in levels}
    checked: dict[str, tuple[str, ...]] = {}
    for level, names in rules.items():
        if level not in keys:
            raise ConfigError(f"setting awards.rules.{level}: {level!r} is not in areas.levels")
        if not isinstance(names, list | tuple) or any(n not in RULES for n in names):
            raise ConfigError(f"setting awards.rules.{level} must list rules among "
                              f"{', '.join(RULES)}")
        checked[level] = tuple(names)
    cfg = AwardsConfig(
        points_per_year=_points(section, "awards.points_per_year", d.points_per_year),
        consecutive_years=_get(section, "awards.consecutive_years", int, d.consecutive_years),
        halved_share=_get(section, "awards.halved_share", float, d.halved_share),
        rules=checked,
    )
    if not 1 <= cfg.consecutive_years <= 10:
        raise ConfigError("setting awards.consecutive_years must be from 1 to 10")
    if not 0 < cfg.halved_share < 1:
        raise ConfigError("setting awards.halved_share must be between 0 and 1 (0.5 is 50 %)")
    return cfg


# --- [outbox]: delivery of what the bot sends on its own -----------------------------------

_CHANNEL_PREFERENCES = ("last_used", "telegram", "zalo")


def _outbox(section: object) -> OutboxConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting outbox must be a table ([outbox])")
    d = OutboxConfig()
    cfg = OutboxConfig(
        concurrency=_get(section, "outbox.concurrency", int, d.concurrency),
        max_attempts=_get(section, "outbox.max_attempts", int, d.max_attempts),
        retry_base_seconds=_get(section, "outbox.retry_base_seconds", float,
                                d.retry_base_seconds),
        retry_max_seconds=_get(section, "outbox.retry_max_seconds", float,
                               d.retry_max_seconds),
        progress_every_seconds=_get(section, "outbox.progress_every_seconds", float,
                                    d.progress_every_seconds),
        progress_min_recipients=_get(section, "outbox.progress_min_recipients", int,
                                     d.progress_min_recipients),
        prefer_channel=_get(section, "outbox.prefer_channel", str, d.prefer_channel),
    )
    if not 1 <= cfg.concurrency <= 256:
        raise ConfigError("setting outbox.concurrency must be from 1 to 256")
    if cfg.max_attempts < 1:
        raise ConfigError("setting outbox.max_attempts must be 1 or more")
    if not 0 < cfg.retry_base_seconds <= cfg.retry_max_seconds:
        raise ConfigError("setting outbox.retry_base_seconds must be above 0 and at most "
                          "outbox.retry_max_seconds")
    if cfg.progress_every_seconds <= 0:
        raise ConfigError("setting outbox.progress_every_seconds must be above 0")
    if cfg.prefer_channel not in _CHANNEL_PREFERENCES:
        raise ConfigError(f"setting outbox.prefer_channel must be one of "
                          f"{', '.join(_CHANNEL_PREFERENCES)}, not {cfg.prefer_channel!r}")
    return cfg


# --- [calendar]: the reporting calendar ----------------------------------------------------

_CALENDAR_PARTS = ("monthly", "half_year", "yearly", "peak_month", "annual_review")


def _clock_time(section: dict, dotted: str, default: time) -> time:
    raw = _get(section, dotted, str, default.strftime("%H:%M"))
    try:
        hours, minutes = (int(x) for x in raw.split(":"))
        return time(hours, minutes)
    except ValueError as exc:
        raise ConfigError(f"setting {dotted} must be a time of day like \"08:00\", "
                          f"not {raw!r}") from exc


def _day_of_year(section: dict, dotted: str, default: DayOfYear) -> DayOfYear:
    raw = _get(section, dotted, str, f"{default.month:02d}-{default.day:02d}")
    try:
        month, day = (int(x) for x in raw.split("-"))
        if (month, day) == (2, 29):
            raise ValueError
        return DayOfYear(month, day)
    except ValueError as exc:
        raise ConfigError(
            f"setting {dotted}: {raw!r} is not a day of the year; write \"MM-DD\", like "
            "\"11-20\" for 20 November (29 February is not allowed: it is missing most years)"
        ) from exc


def _table(section: dict, name: str, where: str) -> dict:
    value = section.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"setting {where}.{name} must be a table")
    return value


def _known(section: dict, where: str, names: tuple[str, ...]) -> None:
    for name in section:
        if name not in names:
            raise ConfigError(f"setting {where}.{name} is not a setting here "
                              f"(expected: {', '.join(names)})")


def _schedule(section: dict, where: str, default: Schedule) -> Schedule:
    raw = section.get("reminders", list(default.reminders))
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)):
        raise ConfigError(f"setting {where}.reminders must list days from the due date, "
                          "like [-3, 0, 2]")
    if len(set(raw)) != len(raw):
        raise ConfigError(f"setting {where}.reminders lists a day twice: {raw}")
    schedule = Schedule(
        tuple(sorted(raw)),
        _get(section, f"{where}.escalate_after", int, default.escalate_after),
        _get(section, f"{where}.digest_after", int, default.digest_after),
    )
    if schedule.escalate_after < 0:
        raise ConfigError(f"setting {where}.escalate_after must be 0 or more days "
                          "after the due date")
    if schedule.digest_after < schedule.escalate_after:
        raise ConfigError(f"setting {where}.digest_after must not come before "
                          f"{where}.escalate_after")
    first, last = schedule.span()
    if first < -60 or last > 60:
        raise ConfigError(f"setting {where}: reminders and escalations must fall within "
                          "60 days of the due date")
    return schedule


def _monthly_calendar(section: dict, where: str, default: MonthlyCalendar,
                      lock_day: int) -> MonthlyCalendar:
    _known(section, where, ("due_day", "reminders", "escalate_after", "digest_after"))
    cal = MonthlyCalendar(_get(section, f"{where}.due_day", int, default.due_day),
                          _schedule(section, where, default.schedule))
    if not 1 <= cal.due_day <= 28:
        raise ConfigError(f"setting {where}.due_day must be a day from 1 to 28")
    first, last = cal.schedule.span()
    if cal.due_day + first < 1:
        raise ConfigError(
            f"setting {where}.reminders: the first reminder ({first} days from day "
            f"{cal.due_day}) would come before the month being reported is over")
    last_reminder = cal.due_day + max(cal.schedule.reminders)
    if last_reminder > lock_day:
        raise ConfigError(
            f"setting {where}.reminders: the last reminder (day {last_reminder} of the next "
            f"month) falls after reports.monthly.lock_day ({lock_day}), when village heads "
            "can no longer file")
    if last - first >= 28:
        raise ConfigError(f"setting {where}: reminders span {last - first} days, so the "
                          "windows of two months would overlap (at most 27)")
    return cal


def _yearly_report(section: dict, where: str, default: YearlyReportCalendar
                   ) -> YearlyReportCalendar:
    _known(section, where, ("due", "commune_due", "reminders", "escalate_after",
                            "digest_after"))
    cal = YearlyReportCalendar(
        _day_of_year(section, f"{where}.due", default.due),
        _day_of_year(section, f"{where}.commune_due", default.commune_due),
        _schedule(section, where, default.schedule),
    )
    if (cal.commune_due.month, cal.commune_due.day) < (cal.due.month, cal.due.day):
        raise ConfigError(f"setting {where}.commune_due ({cal.commune_due.label}) must not "
                          f"come before {where}.due ({cal.due.label}): communes compile "
                          "their villages' reports")
    return cal


def _window(section: dict, where: str, default: Window) -> Window:
    _known(section, where, ("start", "end"))
    window = Window(_day_of_year(section, f"{where}.start", default.start),
                    _day_of_year(section, f"{where}.end", default.end))
    if (window.end.month, window.end.day) < (window.start.month, window.start.day):
        raise ConfigError(f"setting {where}: end ({window.end.label}) comes before start "
                          f"({window.start.label})")
    return window


def _one_calendar(section: dict, where: str, base: Calendar, lock_day: int) -> Calendar:
    cal = Calendar(
        monthly=_monthly_calendar(_table(section, "monthly", where), f"{where}.monthly",
                                  base.monthly, lock_day),
        half_year=_yearly_report(_table(section, "half_year", where), f"{where}.half_year",
                                 base.half_year),
        yearly=_yearly_report(_table(section, "yearly", where), f"{where}.yearly",
                              base.yearly),
        peak_month=_window(_table(section, "peak_month", where), f"{where}.peak_month",
                           base.peak_month),
        annual_review=_window(_table(section, "annual_review", where),
                              f"{where}.annual_review", base.annual_review),
    )
    h1_first, h1_last = window_span(cal, HALF_YEAR)
    y_first, y_last = window_span(cal, YEARLY)
    if h1_last >= y_first or y_last - 365 >= h1_first:
        raise ConfigError(
            f"setting {where}.half_year and {where}.yearly: their reminder windows overlap "
            "(from the first reminder to the last escalation); move a due date or shorten "
            "the reminders")
    return cal


def _calendar(section: object, monthly: MonthlyReportConfig) -> CalendarConfig:
    if not isinstance(section, dict):
        raise ConfigError("setting calendar must be a table ([calendar])")
    _known(section, "calendar", (*_CALENDAR_PARTS, "send_time", "quiet_start", "quiet_end",
                                 "overrides"))
    d = CalendarConfig()
    send_time = _clock_time(section, "calendar.send_time", d.send_time)
    quiet_start = _clock_time(section, "calendar.quiet_start", d.quiet_start)
    quiet_end = _clock_time(section, "calendar.quiet_end", d.quiet_end)
    default = _one_calendar(section, "calendar", d.default, monthly.lock_day)
    raw = section.get("overrides", [])
    if not isinstance(raw, list):
        raise ConfigError("setting calendar.overrides must be a list of tables "
                          "([[calendar.overrides]])")
    overrides = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"calendar.overrides[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"setting {where} must be a table ([[calendar.overrides]])")
        _known(entry, where, ("area", *_CALENDAR_PARTS))
        area = _get(entry, f"{where}.area", str, "").strip()
        if not area:
            raise ConfigError(f"setting {where}.area must name an area (its code or name)")
        if area.casefold() in seen:
            raise ConfigError(f"setting {where}.area: {area!r} is overridden twice")
        seen.add(area.casefold())
        overrides.append(AreaCalendar(area, _one_calendar(entry, where, default,
                                                          monthly.lock_day), where))
    config = CalendarConfig(default, tuple(overrides), send_time, quiet_start, quiet_end)
    if config.in_quiet_hours(send_time):
        raise ConfigError(
            f"setting calendar.send_time ({send_time:%H:%M}) falls in the quiet hours "
            f"(calendar.quiet_start {quiet_start:%H:%M} – calendar.quiet_end "
            f"{quiet_end:%H:%M}), when nothing is sent")
    return config


# --- [poverty]: the national poverty standards --------------------------------------------

_STANDARD_INTS = (
    "first_year",
    "last_year",
    "rural_income_line",
    "urban_income_line",
    "min_deprivations_poor",
    "average_rural_max",
    "average_urban_max",
)
_STANDARD_FIELDS = ("name", *_STANDARD_INTS, "indicators")


@cache
def shipped_poverty() -> PovertyConfig:
    """The ``[poverty]`` section of the ``config.toml`` shipped with the code."""
    try:
        data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
        return _poverty(data.get("poverty", {}), shipped=None)
    except (OSError, tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ConfigError(f"{DEFAULT_CONFIG} (the shipped poverty standards): {exc}") from exc


def _poverty(section: object, shipped: Callable[[], PovertyConfig] | None) -> PovertyConfig:
    """Parse and check ``[poverty]``; without ``standards``, take them from ``shipped()``."""
    if not isinstance(section, dict):
        raise ConfigError("setting poverty must be a table ([poverty])")
    months = _get(section, "poverty.recently_exited_months", int, 36)
    if months < 0:
        raise ConfigError("setting poverty.recently_exited_months must be 0 or more")
    raw = section.get("standards")
    if raw is None:
        if shipped is None:
            raise ConfigError("setting poverty.standards is missing: list the poverty standards")
        return PovertyConfig(standards=shipped().standards, recently_exited_months=months)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            "setting poverty.standards must list at least one standard ([[poverty.standards]])"
        )
    standards = tuple(_standard(entry, f"poverty.standards[{i}]") for i, entry in enumerate(raw))
    for i in range(1, len(standards)):
        before, after = standards[i - 1], standards[i]
        if after.first_year != before.last_year + 1:
            problem = (
                "overlaps the previous standard or is out of order"
                if after.first_year <= before.last_year
                else "leaves a gap after the previous standard"
            )
            raise ConfigError(
                f"setting poverty.standards[{i}].first_year ({after.name}) {problem}: it must be "
                f"{before.last_year + 1}, the year after poverty.standards[{i - 1}].last_year "
                "(standards are listed in year order)"
            )
    return PovertyConfig(standards=standards, recently_exited_months=months)


def _standard(entry: object, where: str) -> Standard:
    """One ``[[poverty.standards]]`` table, checked; ``where`` is its setting name."""
    if not isinstance(entry, dict):
        raise ConfigError(f"setting {where} must be a table ([[poverty.standards]])")
    for name in entry:
        if name not in _STANDARD_FIELDS:
            raise ConfigError(
                f"setting {where}.{name} is not a setting of a poverty standard "
                f"(expected: {', '.join(_STANDARD_FIELDS)})"
            )
    for name in _STANDARD_FIELDS:
        if name not in entry:
            raise ConfigError(f"setting {where}.{name} is missing")
    title = _get(entry, f"{where}.name", str, "").strip()
    if not title:
        raise ConfigError(f"setting {where}.name must not be empty")
    values = {name: _get(entry, f"{where}.{name}", int, 0) for name in _STANDARD_INTS}
    named = f"({title})"
    if not 1900 <= values["first_year"] <= 2999:
        raise ConfigError(f"setting {where}.first_year {named} must be a year, like 2027")
    if not values["first_year"] <= values["last_year"] <= 2999:
        raise ConfigError(
            f"setting {where}.last_year {named} must be a year, not before first_year"
        )
    for area in ("rural", "urban"):
        line, top = f"{area}_income_line", f"average_{area}_max"
        if values[line] <= 0:
            raise ConfigError(f"setting {where}.{line} {named} must be above 0 đồng")
        if values[top] <= values[line]:
            raise ConfigError(
                f"setting {where}.{top} {named} must be above {where}.{line} "
                f"({values[line]}): the average band lies above the income line"
            )
    indicators = _indicators(entry["indicators"], f"{where}.indicators", named)
    if not 1 <= values["min_deprivations_poor"] <= len(indicators):
        raise ConfigError(
            f"setting {where}.min_deprivations_poor {named} must be from 1 to "
            f"{len(indicators)} (the number of indicators)"
        )
    return Standard(name=title, indicators=indicators, **values)


def _indicators(raw: object, where: str, named: str) -> tuple[Indicator, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"setting {where} {named} must list the deprivation indicators")
    indicators: list[Indicator] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(
                f"setting {at} {named} must be {{ key = \"...\", dimension = \"...\" }}"
            )
        for name in item:
            if name not in ("key", "dimension"):
                raise ConfigError(f"setting {at}.{name} {named} is not a setting of an indicator")
        for name in ("key", "dimension"):
            if name not in item:
                raise ConfigError(f"setting {at}.{name} {named} is missing")
        key = _get(item, f"{at}.key", str, "")
        dimension = _get(item, f"{at}.dimension", str, "").strip()
        if key not in INDICATORS:
            raise ConfigError(
                f"setting {at}.key {named}: unknown indicator {key!r} "
                f"(known: {', '.join(INDICATORS)}; a new indicator needs its label and "
                "question in common/catalogue.py and a line in reports/poverty.py INDICATORS)"
            )
        if any(known.key == key for known in indicators):
            raise ConfigError(f"setting {at}.key {named}: indicator {key!r} is listed twice")
        if not dimension:
            raise ConfigError(f"setting {at}.dimension {named} must not be empty")
        indicators.append(Indicator(key=key, dimension=dimension))
    return tuple(indicators)

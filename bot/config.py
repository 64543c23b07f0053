"""Configuration: ``config.toml`` plus environment overrides, read once at start-up."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
class TelegramConfig:
    token: str = ""
    username: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = 30
    overall_max_rate: float = 30
    group_max_rate: float = 20
    concurrent_updates: int = 64


@dataclass(frozen=True)
class Config:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    log_level: str = "INFO"
    db_path: Path = ROOT / "var" / "giamngheo.sqlite3"
    db_synchronous: str = "NORMAL"
    db_busy_timeout_ms: int = 5000
    inbound_dedup_days: int = 14
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    levels: tuple[Level, ...] = (
        Level("province", "Tỉnh"),
        Level("district", "Huyện"),
        Level("commune", "Xã"),
        Level("village", "Thôn"),
    )
    report_level: str = "village"
    invite_ttl_days: int = 14
    monthly: MonthlyReportConfig = field(default_factory=MonthlyReportConfig)
    demo_path: Path = ROOT / "var" / "demo.sqlite3"

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

    db_path = env.get("GIAMNGHEO_DB") or _get(dbc, "database.path", str, "var/giamngheo.sqlite3")
    return Config(
        timezone=tz,
        log_level=_get(botc, "bot.log_level", str, "INFO").upper(),
        db_path=_path(db_path, base),
        db_synchronous=synchronous,
        db_busy_timeout_ms=_get(dbc, "database.busy_timeout_ms", int, 5000),
        inbound_dedup_days=_get(dbc, "database.inbound_dedup_days", int, 14),
        telegram=telegram,
        levels=levels,
        report_level=report_level,
        invite_ttl_days=_get(data.get("invites", {}), "invites.ttl_days", int, 14),
        monthly=monthly,
        demo_path=_path(
            _get(data.get("demo", {}), "demo.path", str, "var/demo.sqlite3"), base
        ),
    )

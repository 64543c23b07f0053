"""The configuration as an administrator meets it: config.toml and the environment, and what
the bot says when a setting is wrong (one line per setting, named by its dotted path)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path

import pydantic
import pytest

from common.config import (
    DEFAULT_CONFIG,
    Config,
    ConfigError,
    MonthlyReportConfig,
    load_config,
    replace,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return str(caught.value)


def test_the_shipped_file_is_the_code_defaults():
    shipped = load_config(DEFAULT_CONFIG, env={})
    assert shipped == Config()
    assert shipped.db_path == DEFAULT_CONFIG.parent / "var" / "giamngheo.sqlite3"


def test_the_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[database]\npath = "file.sqlite3"\n'
                           '[telegram]\nusername = "@from_file"\n'
                           '[zalo]\npublic_base_url = "https://file.example.vn/"\n')
    plain = load_config(path, env={})
    assert plain.db_path == tmp_path / "file.sqlite3"  # relative to the file's folder
    assert plain.telegram.username == "from_file"  # without "@"
    assert plain.zalo.public_base_url == "https://file.example.vn"
    assert plain.telegram.token == plain.zalo.token == plain.zalo.webhook_secret == ""
    env = {"GIAMNGHEO_DB": "env.sqlite3", "GIAMNGHEO_TELEGRAM_TOKEN": " 123:abc \n",
           "GIAMNGHEO_TELEGRAM_USERNAME": "@from_env", "GIAMNGHEO_ZALO_TOKEN": "zalo-token",
           "GIAMNGHEO_ZALO_SECRET": "s" * 8, "GIAMNGHEO_ZALO_PUBLIC_URL": "https://env.vn"}
    cfg = load_config(path, env=env)
    assert cfg.db_path == tmp_path / "env.sqlite3"
    assert (cfg.telegram.token, cfg.telegram.username) == ("123:abc", "from_env")
    assert (cfg.zalo.token, cfg.zalo.webhook_secret) == ("zalo-token", "ssssssss")
    assert cfg.zalo.public_base_url == "https://env.vn"
    # an empty variable is no override
    assert load_config(path, env={"GIAMNGHEO_DB": "", "GIAMNGHEO_TELEGRAM_USERNAME": ""}
                       ).telegram.username == "from_file"


def test_giamngheo_config_chooses_the_file(tmp_path):
    path = write(tmp_path, "[invites]\nttl_days = 3\n")
    assert load_config(env={"GIAMNGHEO_CONFIG": str(path)}).invite_ttl_days == 3
    assert "config file not found" in refused(tmp_path / "none.toml")


@pytest.mark.parametrize("text, variable", [
    ('[telegram]\ntoken = "123:abc"', "GIAMNGHEO_TELEGRAM_TOKEN"),
    ('[zalo]\ntoken = "x"', "GIAMNGHEO_ZALO_TOKEN"),
    ('[zalo]\nwebhook_secret = "12345678"', "GIAMNGHEO_ZALO_SECRET"),
])
def test_a_secret_in_the_file_is_refused(tmp_path, text, variable):
    message = refused(write(tmp_path, text))
    assert message.endswith(f"must not be in the config file: set the environment variable "
                            f"{variable} instead")
    assert "123:abc" not in message


def test_each_wrong_setting_is_one_line_naming_it(tmp_path):
    message = refused(write(tmp_path, '[bot]\ntimezon = "Asia/Ho_Chi_Minh"\n'
                                      '[calendar.monthly]\ndue_day = 31\n'
                                      '[outbox]\nconcurrency = "8"\n'))
    assert message.splitlines() == [
        "setting bot.timezon is not a setting here (expected: timezone, log_level, event_loop)",
        "setting calendar.monthly.due_day must be a day from 1 to 28, not 31",
        "setting outbox.concurrency must be a whole number, not '8'",
    ]
    assert "pydantic" not in message and "validation error" not in message


@pytest.mark.parametrize("text, line", [
    ('[bot]\ntimezone = "Asia/Hanoi"', "setting bot.timezone: unknown time zone 'Asia/Hanoi'"),
    ('[bot]\nevent_loop = "trio"',
     'setting bot.event_loop must be "uvloop" or "asyncio", not \'trio\''),
    ("[zalo]\nlisten_port = 0", "setting zalo.listen_port must be a port number (1–65535), not 0"),
    ('[telegram]\nbase_url = "api.telegram.org"',
     "setting telegram.base_url must start with http:// or https://, not 'api.telegram.org'"),
    ("[invites]\nttl_days = 0", "setting invites.ttl_days must be 1 or more, not 0"),
    ("[telegram]\ntransient_retries = 6",
     "setting telegram.transient_retries must be from 0 to 5, not 6"),
    ("[zalo]\nmedia_ttl_minutes = 10\npersonal_media_ttl_minutes = 30",
     "setting zalo.personal_media_ttl_minutes (30) must be at most zalo.media_ttl_minutes (10):"
     " a list that names people lives shorter"),
    ("[telegram]\nrequest_timeout = 0",
     "setting telegram.request_timeout must be seconds, more than 0 and at most 300, not 0"),
    ("[invites]\nmax_wrong_codes_per_minute = 0",
     "setting invites.max_wrong_codes_per_minute must be from 1 to 10000, not 0"),
    ("[invites]\nwrong_codes_window_minutes = 2000",
     "setting invites.wrong_codes_window_minutes must be minutes from 1 to 1440 (a day), "
     "not 2000"),
    ('[areas]\nreport_level = "hamlet"',
     "setting areas.report_level: 'hamlet' is not in areas.levels"),
    ('[awards]\nrules = { town = ["points"] }',
     "setting awards.rules.town: 'town' is not in areas.levels"),
    ('[awards]\nrules = { commune = ["halfed"] }',
     "setting awards.rules.commune[0] must be \"points\" or \"halved\", not 'halfed'"),
    ('[areas]\nlevels = [{ key = "a" }]\nreport_level = "a"',
     "setting areas.levels[0].name is missing"),
    ("[reports]\nmonthly = 3", "setting reports.monthly must be a table, not 3"),
    ("[stats]\nbaseline_year = 21", "setting stats.baseline_year must be a year like 2022, or 0 "
                                    "for the first year of the poverty standard in force"),
    ("[reminders]\nx = 1", "setting reminders is not a setting here (expected: bot, database, "
                           "telegram, zalo, areas, invites, link, reports, calendar, outbox, "
                           "stats, targets, awards, demo, poverty)"),
])
def test_what_an_administrator_reads(tmp_path, text, line):
    assert refused(write(tmp_path, text)) == line


def test_a_wrong_value_from_the_environment_names_the_variable(tmp_path):
    path = write(tmp_path, "")
    assert refused(path, {"GIAMNGHEO_ZALO_PUBLIC_URL": "giamngheo.vn"}) == (
        "setting zalo.public_base_url (set by GIAMNGHEO_ZALO_PUBLIC_URL) must start with "
        "http:// or https://, not 'giamngheo.vn'")
    assert refused(path, {"GIAMNGHEO_ZALO_SECRET": "short"}) == (
        "GIAMNGHEO_ZALO_SECRET must be 8 to 256 characters (Zalo's limit)")


def test_times_and_days_as_toml_writes_them(tmp_path):
    cfg = load_config(write(tmp_path, "[calendar]\nsend_time = 09:30:00\nquiet_start = \"22:00\"\n"
                                      '[calendar.yearly]\ndue = "11-15"\n'), env={})
    assert (cfg.calendar.send_time, cfg.calendar.quiet_start) == (time(9, 30), time(22, 0))
    assert cfg.calendar.yearly.due.label == "15/11"
    assert cfg.calendar.yearly.commune_due.label == "30/12"  # the rest of the table: defaults


def test_settings_are_frozen_and_can_key_a_cache(config):
    with pytest.raises(pydantic.ValidationError):
        config.monthly.lock_day = 3
    calls = []

    @lru_cache
    def engine(cfg: MonthlyReportConfig) -> int:
        calls.append(cfg)
        return cfg.lock_day

    assert engine(config.monthly) == engine(MonthlyReportConfig()) == 10 and len(calls) == 1
    assert hash(config.calendar) == hash(load_config(DEFAULT_CONFIG, env={}).calendar)


def test_replace_checks_what_it_builds(config, tmp_path):
    moved = replace(config, db_path=tmp_path / "x.sqlite3", log_level="debug")
    assert (moved.db_path, moved.log_level, moved.monthly) == (
        tmp_path / "x.sqlite3", "DEBUG", config.monthly)
    with pytest.raises(pydantic.ValidationError):
        replace(config.outbox, concurrency=0)

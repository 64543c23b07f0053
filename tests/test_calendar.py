"""The reporting calendar as configuration: defaults, bad settings stop the start-up with a
message naming the setting, quiet hours, the events of a year."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from common.config import Calendar, CalendarConfig, ConfigError, load_config
from reports.calendar import events_between, open_periods
from scheduler.planner import Planner


def calendar_of(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={}).calendar


def refused(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        calendar_of(tmp_path, text)
    return str(caught.value)


def test_the_shipped_calendar_is_domain_6(config):
    cal = config.calendar.default
    assert (cal.monthly.due_day, cal.monthly.schedule.reminders) == (5, (-3, 0, 2))
    assert (cal.half_year.due.label, cal.yearly.due.label) == ("20/06", "20/11")
    assert cal.yearly.commune_due.label == "30/12"  # commendation proposals
    assert (cal.peak_month.start.label, cal.peak_month.end.label) == ("17/10", "18/11")
    assert (cal.annual_review.start.label, cal.annual_review.end.label) == ("01/09", "14/12")
    assert config.calendar == CalendarConfig()  # the code's defaults say the same


@pytest.mark.parametrize(("text", "setting", "words"), [
    ('[calendar.yearly]\ndue = "02-30"', "calendar.yearly.due", "is not a day of the year"),
    ('[calendar.half_year]\ndue = "02-29"', "calendar.half_year.due", "29 February"),
    ('[calendar.yearly]\ndue = "20/11"', "calendar.yearly.due", "MM-DD"),
    ('[calendar.monthly]\ndue_day = 31', "calendar.monthly.due_day", "1 to 28"),
    ('[calendar.monthly]\nreminders = [-3, 0, 8]', "calendar.monthly.reminders",
     "after reports.monthly.lock_day (10)"),
    ('[calendar.monthly]\ndue_day = 2\nreminders = [-3, 0]', "calendar.monthly.reminders",
     "before the month being reported is over"),
    ('[calendar.monthly]\ndue_day = 1\nreminders = [0]\ndigest_after = 30',
     "calendar.monthly", "would overlap"),
    ('[calendar.half_year]\ndue = "11-01"\ncommune_due = "11-05"',
     "calendar.half_year and calendar.yearly", "overlap"),
    ('[calendar.yearly]\ndue = "06-25"\ncommune_due = "06-30"',
     "calendar.half_year and calendar.yearly", "overlap"),
    ('[calendar.yearly]\ncommune_due = "11-01"', "calendar.yearly.commune_due",
     "must not come before calendar.yearly.due"),
    ('[calendar.peak_month]\nstart = "11-18"\nend = "10-17"', "calendar.peak_month",
     "comes before start"),
    ('[calendar]\nsend_time = "22:00"', "calendar.send_time", "quiet hours"),
    ('[calendar]\nsend_time = "8h"', "calendar.send_time", "like \"08:00\""),
    ('[calendar.monthly]\nreminders = [0, 0]', "calendar.monthly.reminders", "twice"),
    ('[calendar.monthly]\nremind = [0]', "calendar.monthly.remind", "not a setting"),
    ('[calendar.monthly]\nescalate_after = 3\ndigest_after = 2',
     "calendar.monthly.digest_after", "must not come before"),
    ('[[calendar.overrides]]\narea = "12"\nyearly = { due = "13-01" }',
     "calendar.overrides[0].yearly.due", "is not a day of the year"),
    ('[[calendar.overrides]]\nmonthly = { due_day = 4 }', "calendar.overrides[0].area",
     "is missing (an area's official code or name)"),
    ('[outbox]\nconcurrency = 0', "outbox.concurrency", "from 1 to 256"),
    ('[outbox]\nprefer_channel = "sms"', "outbox.prefer_channel", "last_used"),
])
def test_a_bad_calendar_stops_the_start_up_naming_the_setting(tmp_path, text, setting, words):
    message = refused(tmp_path, text)
    assert setting in message and words in message


def test_an_override_inherits_what_it_does_not_set(tmp_path):
    cfg = calendar_of(tmp_path, '[[calendar.overrides]]\narea = "Tỉnh Lai Châu"\n'
                                'yearly = { due = "11-10", commune_due = "12-20" }\n')
    [override] = cfg.overrides
    assert override.area == "Tỉnh Lai Châu"
    assert override.calendar.yearly.due.label == "10/11"
    assert override.calendar.monthly == cfg.default.monthly
    assert override.calendar.yearly.schedule == cfg.default.yearly.schedule


async def test_an_override_of_an_unknown_area_stops_the_start_up(db, config, world, tmp_path,
                                                                 clock):
    from common.config import replace

    for area, problem in (("Xã Không Có", "matches no area"), ("Bản", "matches no area")):
        cfg = calendar_of(tmp_path, f'[[calendar.overrides]]\narea = "{area}"\n'
                                    + 'monthly = { due_day = 4 }\n')
        planner = Planner(db, replace(config, calendar=cfg), clock)
        with pytest.raises(ConfigError) as caught:
            await planner.resolve()
        assert "calendar.overrides[0].area" in str(caught.value)
        assert problem in str(caught.value)
    cfg = calendar_of(tmp_path, '[[calendar.overrides]]\narea = "03445"\n')  # by code
    planner = Planner(db, replace(config, calendar=cfg), clock)
    await planner.resolve()
    assert planner.override_paths == [None, world.commune.path]


@pytest.mark.parametrize(("moment", "expected"), [
    ("08:00", "08:00"), ("20:59", "20:59"), ("21:00", "07:00+1"), ("23:30", "07:00+1"),
    ("00:10", "07:00"), ("06:59", "07:00"), ("07:00", "07:00"),
])
def test_quiet_hours_hold_messages_until_morning(config, moment, expected):
    tz = config.timezone
    hours, minutes = (int(x) for x in moment.split(":"))
    at = datetime(2026, 12, 1, hours, minutes, tzinfo=tz)
    out = config.calendar.next_sending_time(at)
    day = "+1" if out.date() > at.date() else ""
    assert f"{out:%H:%M}{day}" == expected


def test_quiet_hours_may_be_off():
    cfg = CalendarConfig(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not cfg.in_quiet_hours(time(3, 0))


def test_a_year_has_the_expected_number_of_events(config):
    tz = config.timezone
    events = events_between(config.calendar, tz, datetime(2026, 12, 31, 23, 59, tzinfo=tz),
                            datetime(2027, 12, 31, 23, 59, tzinfo=tz))
    kinds = {}
    for event in events:
        kinds[(event.kind, event.form, event.level)] = kinds.get(
            (event.kind, event.form, event.level), 0) + 1
    assert kinds[("remind", "monthly_village", "village")] == 36
    assert kinds[("escalate", "monthly_village", "village")] == 12
    assert kinds[("digest", "monthly_village", "village")] == 12
    assert kinds[("remind", "half_year", "commune")] == 4
    assert kinds[("remind", "yearly", "commune")] == 4  # three in December, one on 2 Jan 2027
    assert kinds[("notice", "peak_month", "peak_month")] == 1
    assert all(e.at.hour == 8 for e in events)
    assert len({e.key for e in events}) == len(events)  # one key per event


def test_a_missed_event_expires_when_the_next_of_its_series_is_due(config):
    tz = config.timezone
    events = events_between(config.calendar, tz, datetime(2026, 12, 1, tzinfo=tz),
                            datetime(2026, 12, 9, tzinfo=tz))
    reminders = [e for e in events if e.kind == "remind" and e.form == "monthly_village"]
    assert [(f"{e.at:%d %H}", f"{e.expires:%d %H}") for e in reminders] == [
        ("02 08", "05 08"), ("05 08", "07 08"), ("07 08", "10 08")]


def test_reports_in_season(config):
    cal: Calendar = config.calendar.default
    on = open_periods(cal, date(2026, 12, 1), 10)
    assert [(form, period, level) for form, period, level, _ in on] == [
        ("yearly", "2026", "village"), ("monthly_village", "2026-11", "village"),
        ("yearly", "2026", "commune")]
    assert [p for _, p, _, _ in open_periods(cal, date(2026, 12, 11), 10)] == ["2026", "2026"]
    assert open_periods(cal, date(2026, 3, 5), 10)[0][:2] == ("monthly_village", "2026-02")

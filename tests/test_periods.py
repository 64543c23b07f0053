"""Periods of statistics typed the ways officers write them (issue 11, item 15)."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.stats import split_args
from reports.periods import Period, PeriodError, parse_period

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(("text", "expected"), [
    # quarters
    ("quý 3 năm 2026", Period("quarter", 2026, 3)),
    ("Quý III/2026", Period("quarter", 2026, 3)),
    ("quy iv nam 2025", Period("quarter", 2025, 4)),
    ("quý 3/2026", Period("quarter", 2026, 3)),
    ("q3 2026", Period("quarter", 2026, 3)),
    ("2026-Q3", Period("quarter", 2026, 3)),
    ("quý 2", Period("quarter", 2026, 2)),
    ("quý này", Period("quarter", 2026, 4)),
    ("quý trước", Period("quarter", 2026, 3)),
    ("quý 4 năm ngoái", Period("quarter", 2025, 4)),
    # months
    ("tháng 10 năm 2026", Period("month", 2026, 10)),
    ("tháng 10 2026", Period("month", 2026, 10)),
    ("T10/2026", Period("month", 2026, 10)),
    ("tháng 11 năm nay", Period("month", 2026, 11)),
    ("tháng trước", Period("month", 2026, 11)),
    # halves
    ("6 tháng cuối năm 2026", Period("half", 2026, 2)),
    ("6 tháng đầu năm", Period("half", 2026, 1)),
    ("sáu tháng đầu năm 2025", Period("half", 2025, 1)),
    ("nửa đầu năm 2026", Period("half", 2026, 1)),
    ("H2/2026", Period("half", 2026, 2)),
    ("6 tháng cuối năm nay", Period("half", 2026, 2)),
    # years
    ("năm nay", Period("year", 2026, 0)),
    ("năm ngoái", Period("year", 2025, 0)),
    ("năm trước", Period("year", 2025, 0)),
    ("cả năm 2026", Period("year", 2026, 0)),
    ("năm 2026", Period("year", 2026, 0)),
    ("2026", Period("year", 2026, 0)),
    ("từ đầu năm", Period("year", 2026, 0)),
    ("từ đầu năm đến nay", Period("year", 2026, 0)),
])
def test_periods_as_officers_write_them(text, expected):
    assert parse_period(text, TODAY) == expected


@pytest.mark.parametrize("text", ["quy 5", "quý V/2026", "2019-13", "13/2026", "thang 13 2026",
                                  "6 thang giua nam 2026"])
def test_periods_that_name_nothing_are_refused(text):
    with pytest.raises(PeriodError):
        parse_period(text, TODAY)


@pytest.mark.parametrize("text", ["ban na khan", "xa muong te", "nam cum", ""])
def test_area_names_are_not_periods(text):
    try:
        assert parse_period(text, TODAY) is None
    except PeriodError:
        pass  # "nam cum" looks like one; the area search gets it all the same


@pytest.mark.parametrize(("text", "area", "period"), [
    ("quý 3 năm 2026", "", Period("quarter", 2026, 3)),
    ("Bản Nà Khan quý III năm 2026", "Bản Nà Khan", Period("quarter", 2026, 3)),
    ("xa muong te tháng 10 năm 2026", "xa muong te", Period("month", 2026, 10)),
    ("Mường Tè 6 tháng cuối năm 2026", "Mường Tè", Period("half", 2026, 2)),
    ("năm nay", "", Period("year", 2026, 0)),
    ("Nậm Củm từ đầu năm đến nay", "Nậm Củm", Period("year", 2026, 0)),
])
def test_the_period_is_read_off_the_end_of_thongke(text, area, period):
    assert split_args(text, TODAY) == (area, period, False)

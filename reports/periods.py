"""Reporting periods: months, the sensible default, and the lock date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.text import fold


@dataclass(frozen=True, order=True, slots=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2999:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse_key(cls, key: str) -> Month:
        year, month = key.split("-")
        return cls(int(year), int(month))

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """``10/2026``; messages put "tháng" before it."""
        return f"{self.month}/{self.year}"

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def lock_date(self, lock_day: int) -> date:
        """The last day on which a village head may still file or change this month."""
        following = self.next()
        return date(following.year, following.month, lock_day)


def default_month(today: date, previous_month_until_day: int) -> Month:
    """The month a report most likely is for: early in a month, the month just ended."""
    current = Month.of(today)
    return current.previous() if today.day <= previous_month_until_day else current


_FORMS = [
    re.compile(r"^(?:thang|t)?\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$"),  # 10/2026, t10/2026
    re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})$"),  # 2026-10
    re.compile(r"^(?:thang|t)\s*(\d{1,2})$"),  # thang 10, t10 (most recent such month)
]


def parse_month(text: str, today: date) -> Month | None:
    """A month typed by a person, or None. Accepts ``10/2026``, ``t10/2026``, ``thang 10``,
    ``2026-10``, ``thang truoc`` (last month) and ``thang nay`` (this month)."""
    folded = fold(text)
    folded = re.sub(r"^(ky|ky bao cao)\s+", "", folded)
    current = Month.of(today)
    if folded in ("thang nay", "nay"):
        return current
    if folded in ("thang truoc", "truoc"):
        return current.previous()
    for number, pattern in enumerate(_FORMS):
        match = pattern.match(folded)
        if not match:
            continue
        try:
            if number == 0:
                return Month(int(match[2]), int(match[1]))
            if number == 1:
                return Month(int(match[1]), int(match[2]))
            month = int(match[1])
            guess = Month(current.year, month)
            return guess if guess <= current else Month(current.year - 1, month)
        except ValueError:
            return None
    return None


_DAY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?$")


def parse_day(text: str, today: date) -> date | None:
    """A date typed by a person, or None: ``12/11/2026``, ``12-11-26``, ``12/11`` (this year),
    ``hom nay`` (today), ``hom qua`` (yesterday). Dates after today are refused (None)."""
    folded = fold(text)
    if folded in ("hom nay", "nay"):
        return today
    if folded == "hom qua":
        return today - timedelta(days=1)
    match = _DAY.match(folded)
    if not match:
        return None
    year = int(match[3]) if match[3] else today.year
    if year < 100:
        year += 2000
    try:
        day = date(year, int(match[2]), int(match[1]))
    except ValueError:
        return None
    return day if day <= today else None

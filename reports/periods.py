"""Reporting periods: months, the sensible default, and the lock date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from common.text import fold


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


# ---- periods of statistics: a month, a quarter, a half-year, a year -----------------------

MONTH, QUARTER, HALF, YEAR = "month", "quarter", "half", "year"
_SPAN = {QUARTER: 3, HALF: 6, YEAR: 12}


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A stretch of months statistics are asked for: ``number`` is the month (1–12), the
    quarter (1–4) or the half (1–2) of ``year``; 0 for a whole year."""

    kind: str
    year: int
    number: int = 0

    @classmethod
    def of_month(cls, month: Month) -> Period:
        return cls(MONTH, month.year, month.month)

    @property
    def first(self) -> Month:
        if self.kind == MONTH:
            return Month(self.year, self.number)
        if self.kind == YEAR:
            return Month(self.year, 1)
        return Month(self.year, (self.number - 1) * _SPAN[self.kind] + 1)

    @property
    def last(self) -> Month:
        if self.kind == MONTH:
            return self.first
        if self.kind == YEAR:
            return Month(self.year, 12)
        return Month(self.year, self.number * _SPAN[self.kind])

    def months(self) -> list[Month]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = month.next()
        return out

    @property
    def key(self) -> str:
        """``2026-10``, ``2026-Q3``, ``2026-H1``, ``2026``."""
        if self.kind == MONTH:
            return self.first.key
        if self.kind == YEAR:
            return f"{self.year}"
        return f"{self.year}-{'Q' if self.kind == QUARTER else 'H'}{self.number}"


_QUARTER = re.compile(r"^(?:quy|q)\s*(\d{1,2})(?:\s*[/.\- ]\s*(\d{4}))?$")
_QUARTER_KEY = re.compile(r"^(\d{4})\s*[/.\- ]\s*q\s*(\d{1,2})$")
_HALF = re.compile(r"^(?:h|nua nam\s*|6 thang\s*)(\d)(?:\s*[/.\- ]\s*(\d{4}))?$")
_HALF_WORDS = re.compile(r"^(?:6 thang|sau thang|nua) (dau|cuoi) nam(?:\s+(\d{4}))?$")
_YEAR = re.compile(r"^(?:(?:ca )?nam\s*)?(\d{4})$")
_MONTH_WORDS = re.compile(r"^(?:thang|t)\s*(\d{1,2})\s+(\d{4})$")  # thang 10 (nam) 2026
_LOOKS_LIKE = re.compile(r"\d|^(?:quy|q|thang|t|nam|h)\b")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}  # "quý III/2026", as documents write it
_THIS_YEAR = re.compile(r"\bnam (?:nay)$")
_LAST_YEAR = re.compile(r"\bnam (?:ngoai|truoc|roi)$")
_YEAR_TO_DATE = re.compile(r"^(?:luy ke )?(?:tu )?dau nam(?: (?:den|toi) (?:nay|hien nay|gio))?$")


class PeriodError(ValueError):
    """Text that tries to be a period and is not one (``quy 5``, ``2019-13``)."""


def _words(folded: str, today: date) -> str:
    """Officers' words for a period in the forms the patterns read: "năm nay" / "năm ngoái"
    become the year, "năm 2026" after a quarter or month drops its "năm", a Roman quarter
    its numeral."""
    folded = _THIS_YEAR.sub(f"nam {today.year}", folded)
    folded = _LAST_YEAR.sub(f"nam {today.year - 1}", folded)
    folded = re.sub(r"^(quy|q) (i{1,3}|iv|v)\b", lambda m: f"quy {_ROMAN[m[2]]}", folded)
    folded = re.sub(r"^((?:quy|q|thang|t)\s*\d{1,2}) nam (\d{4})$", r"\1 \2", folded)
    return folded


def parse_period(text: str, today: date) -> Period | None:
    """The period ``text`` names, None when it is not meant as one; PeriodError when it
    looks like a period but names none.

    Months as :func:`parse_month` takes them and ``thang 10 nam 2026``; quarters
    ``quy 3/2026``, ``quý III năm 2026``, ``q3 2026``, ``2026-Q3``, ``quy 3`` (this year),
    ``quy nay``, ``quy truoc``; half-years ``6 thang dau nam 2026``, ``nua cuoi nam``,
    ``h2/2026``; years ``nam 2026``, ``ca nam 2026``, ``2026``, ``nam nay``, ``nam ngoai``,
    ``tu dau nam (den nay)`` (this year to date).
    """
    folded = fold(text)
    if not folded:
        return None
    month = parse_month(folded, today)
    if month is not None:
        return Period.of_month(month)
    current = Month.of(today)
    quarter = (current.month - 1) // 3 + 1
    if folded in ("quy nay", "q nay"):
        return Period(QUARTER, current.year, quarter)
    if folded in ("quy truoc", "q truoc"):
        return (Period(QUARTER, current.year, quarter - 1) if quarter > 1
                else Period(QUARTER, current.year - 1, 4))
    if _YEAR_TO_DATE.match(folded) or folded in ("nam nay", "ca nam nay"):
        return Period(YEAR, current.year, 0)
    if folded in ("nam ngoai", "nam truoc", "nam roi"):
        return Period(YEAR, current.year - 1, 0)
    folded = _words(folded, today)
    found = _MONTH_WORDS.match(folded)
    if found:
        return _checked(MONTH, int(found[2]), int(found[1]))
    for pattern, kind in ((_QUARTER, QUARTER), (_HALF, HALF)):
        found = pattern.match(folded)
        if found:
            return _checked(kind, int(found[2]) if found[2] else today.year, int(found[1]))
    found = _QUARTER_KEY.match(folded)
    if found:
        return _checked(QUARTER, int(found[1]), int(found[2]))
    found = _HALF_WORDS.match(folded)
    if found:
        year = int(found[2]) if found[2] else today.year
        return _checked(HALF, year, 1 if found[1] == "dau" else 2)
    found = _YEAR.match(folded)
    if found:
        return _checked(YEAR, int(found[1]), 0)
    if _LOOKS_LIKE.search(folded) and len(folded) <= 24:
        raise PeriodError(text)
    return None


def _checked(kind: str, year: int, number: int) -> Period:
    limit = {MONTH: 12, QUARTER: 4, HALF: 2, YEAR: 0}[kind]
    if not 1990 <= year <= 2999 or (limit and not 1 <= number <= limit):
        raise PeriodError(f"{kind} {number}/{year}")
    return Period(kind, year, number)

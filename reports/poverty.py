"""The national multidimensional poverty standard, as data, and the household classifier.

Each decree is one ``Standard`` covering a range of years: income lines per person per month
(rural and urban), the upper bound of the "average living standard" band, the deprivation
indicators and how many of them make an income-poor household poor. The standards themselves
live in ``config.toml`` (``[[poverty.standards]]``; their models, ``Standard`` and the rules
it obeys, are in ``common.config``), so a new decree is a configuration change. Only a new
*indicator* needs code: its label and question in ``common.catalogue`` and one line in
``common.indicators.INDICATORS``.

Rules (DOMAIN §4), with ``line`` the income line of the household's area::

    income ≤ line  and  deprivations ≥ min   -> poor
    income ≤ line  and  deprivations < min   -> near_poor
    line < income ≤ average max              -> average
    income > average max                     -> other

A household above the income line is never poor or near-poor, whatever it lacks.
This module is pure: no I/O, no messenger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from common.catalogue import t
from common.config import PovertyConfig, Standard
from common.indicators import INDICATORS
from common.numbers import format_money

POOR = "poor"
NEAR_POOR = "near_poor"
AVERAGE = "average"
OTHER = "other"
STATUSES = (POOR, NEAR_POOR, AVERAGE, OTHER)  # poorest first

_STATUS_KEYS = {
    POOR: "poverty.status.poor",
    NEAR_POOR: "poverty.status.near_poor",
    AVERAGE: "poverty.status.average",
    OTHER: "poverty.status.other",
}
_REASON_KEYS = {
    POOR: "poverty.reason.poor",
    NEAR_POOR: "poverty.reason.near_poor",
    AVERAGE: "poverty.reason.average",
    OTHER: "poverty.reason.other",
}


class NoStandardError(LookupError):
    """No configured standard covers the year; ``key`` and ``params`` give the message."""

    key = "poverty.no_standard"

    def __init__(self, year: int, standards: Iterable[Standard]) -> None:
        covered = ", ".join(s.years for s in standards) or "none"
        super().__init__(
            f"no poverty standard covers the year {year} (configured years: {covered}); "
            "add a [[poverty.standards]] entry to config.toml"
        )
        self.year = year
        self.params = {"year": year}


@dataclass(frozen=True, slots=True)
class Classification:
    """The category of one household, with what is needed to explain it.

    ``explain(c)`` is ``t(c.reason_key, **c.reason_params)``: the params are ready to show.
    """

    status: str  # poor | near_poor | average | other
    income_line: int
    deprivations: int  # how many indicators the household lacks
    min_deprivations: int  # how many make an income-poor household poor
    reason_key: str
    reason_params: dict[str, object] = field(hash=False)
    income_per_person: int = 0
    average_max: int = 0
    urban: bool = False
    standard: str = ""  # the name of the decree applied
    deprived: tuple[str, ...] = ()  # the indicator keys lacking, in the standard's order


def standard_for(cfg: PovertyConfig, year: int) -> Standard:
    """The standard that applies in ``year``; ``NoStandardError`` if none covers it."""
    for standard in cfg.standards:
        if standard.covers(year):
            return standard
    raise NoStandardError(year, cfg.standards)


def classify(
    standard: Standard, *, income_per_person: int, deprived: Iterable[str], urban: bool
) -> Classification:
    """Classify a household by its income (đồng/person/month) and the indicators it lacks.

    ``deprived`` holds indicator keys of ``standard``; an unknown key or a negative income
    raises ``ValueError`` (the form checks what people type before this is called).
    """
    if isinstance(income_per_person, bool) or not isinstance(income_per_person, int):
        raise ValueError(f"income_per_person must be a whole number: {income_per_person!r}")
    if income_per_person < 0:
        raise ValueError(f"income_per_person must not be negative: {income_per_person}")
    if isinstance(deprived, str):  # a single key would be read letter by letter
        raise ValueError(f"deprived must be a collection of indicator keys, not {deprived!r}")
    lacking = set(deprived)
    unknown = lacking - set(standard.indicator_keys)
    if unknown:
        raise ValueError(
            f"indicators not in the standard {standard.name!r}: {', '.join(sorted(unknown))}"
        )
    line = standard.income_line(urban=urban)
    average_max = standard.average_max(urban=urban)
    count = len(lacking)
    minimum = standard.min_deprivations_poor
    if income_per_person <= line:
        status = POOR if count >= minimum else NEAR_POOR
    elif income_per_person <= average_max:
        status = AVERAGE
    else:
        status = OTHER
    params: dict[str, object] = {
        "income": format_money(income_per_person),
        "line": format_money(line),
        "average_max": format_money(average_max),
        "area": t("poverty.area.urban" if urban else "poverty.area.rural"),
        "deprivations": count,
        "total": len(standard.indicators),
        "min_deprivations": minimum,
        "status": t(_STATUS_KEYS[status]),
        "standard": standard.name,
    }
    return Classification(
        status=status,
        income_line=line,
        deprivations=count,
        min_deprivations=minimum,
        reason_key=_REASON_KEYS[status],
        reason_params=params,
        income_per_person=income_per_person,
        average_max=average_max,
        urban=urban,
        standard=standard.name,
        deprived=tuple(key for key in standard.indicator_keys if key in lacking),
    )


def explain(c: Classification) -> str:
    """The Vietnamese sentence saying why the household has its status, with the figures."""
    return t(c.reason_key, **c.reason_params)


def status_label(status: str) -> str:
    """``hộ nghèo``, ``hộ cận nghèo``, ... for a status."""
    return t(_STATUS_KEYS[status])


def indicator_label(key: str) -> str:
    """The short name of an indicator, e.g. ``Bảo hiểm y tế``."""
    return t(INDICATORS[key][0])


def indicator_question(key: str) -> str:
    """The yes/no question a village head asks a household; "yes" means it lacks this."""
    return t(INDICATORS[key][1])


def lacking_text(deprived: Iterable[str], total: int | None = None) -> str:
    """What a household lacks, in words: ``Thiếu 2/12 chỉ số: bảo hiểm y tế, nhà tiêu hợp vệ
    sinh.`` (``total``: how many the standard has), or ``Không thiếu chỉ số nào.``

    A deprivation is what is *lacking*: said as such, never as a "yes" next to the
    indicator's name (which reads as if the household had it).
    """
    keys = [key for key in dict.fromkeys(deprived) if key in INDICATORS]
    if not keys:
        return t("poverty.lacking_none")
    items = ", ".join(_lower_first(indicator_label(key)) for key in keys)
    if total is None:
        return t("poverty.lacking", n=len(keys), items=items)
    return t("poverty.lacking_of", n=len(keys), total=total, items=items)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]

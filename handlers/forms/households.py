"""The household forms, as data: a household's card, its assessment (income and the
deprivation indicators of the standard in force), support received, and a voluntary
registration to exit poverty."""

from __future__ import annotations

from functools import lru_cache

from common.catalogue import t
from handlers.forms.engine import (
    CHOICE,
    DATE,
    MONEY,
    MULTI,
    TEXT,
    YEAR,
    YESNO,
    Check,
    Field,
    FormSpec,
    format_value,
)
from reports.poverty import lacking_text

STATUSES = tuple((s, f"poverty.status.{s}") for s in ("poor", "near_poor", "average", "other"))
PLAN_KINDS = (
    ("crops", "household.plan.crops"),
    ("livestock", "household.plan.livestock"),
    ("wage_work", "household.plan.wage_work"),
    ("business", "household.plan.business"),
    ("craft", "household.plan.craft"),
    ("other", "household.plan.other"),
)
SUPPORT_KINDS = (
    ("loan", "household.support.loan"),
    ("breeds", "household.support.breeds"),
    ("training", "household.support.training"),
    ("job", "household.support.job"),
    ("housing", "household.support.housing"),
    ("other", "household.support.other"),
)
# Income per person per month above this asks "are you sure?" (a typo of a few zeros).
INCOME_CONFIRM_ABOVE = 100_000_000

_CARD = (
    Field("code", TEXT, max_length=20),
    Field("head_name", TEXT, max_length=100),
    Field("status", CHOICE, choices=STATUSES),
    Field("ethnic_minority", YESNO),
    Field("no_work_capacity", YESNO),
    Field("has_merit", YESNO),
    Field("has_loan", YESNO),
)
# A new household comes with the status the commune has recognised; afterwards the status
# only changes through an assessment or an exit registration that an officer recognises.
HOUSEHOLD = FormSpec(key="household", fields=_CARD, confirm_key="form.household.confirm")
HOUSEHOLD_EDIT = FormSpec(key="household", fields=tuple(f for f in _CARD if f.key != "status"),
                          confirm_key="form.household.confirm_edit")


def _income_high(v: dict, prev: dict | None) -> dict | None:
    return {"income": v["income"]} if v["income"] > INCOME_CONFIRM_ABOVE else None


def _assessment_summary(indicators: tuple[str, ...]):
    """The summary of an assessment: the income, then what the household lacks in one line
    («Thiếu 2/12 chỉ số: …»), never «Bảo hiểm y tế: Có» (which reads as if it had it)."""
    income = Field("income", MONEY)

    def lines(values: dict) -> list[str]:
        lacking = [k for k in indicators if values.get(f"lacks_{k}")]
        return [t("form.summary_line", n=1, label=t("form.assessment.income.label"),
                  value=format_value(income, values.get("income"))),
                t("form.assessment.summary_lacking", first=2, last=len(indicators) + 1,
                  lacking=lacking_text(lacking, len(indicators)))]

    return lines


@lru_cache(maxsize=8)
def assessment_spec(indicators: tuple[str, ...]) -> FormSpec:
    """Income, then one yes/no question per deprivation indicator of the standard."""
    fields = [Field("income", MONEY, max=10_000_000_000, default="none")]
    fields += [
        Field(f"lacks_{key}", YESNO, default="previous",
              label_key=f"poverty.indicator.{key}.label",
              prompt_key=f"poverty.indicator.{key}.question")
        for key in indicators
    ]
    return FormSpec(
        key="assessment",
        fields=tuple(fields),
        checks=(Check("income_high", ("income",), False, _income_high),),
        summary_lines=_assessment_summary(indicators) if indicators else None,
        confirm_key="form.assessment.confirm",
    )


SUPPORT = FormSpec(
    key="support",
    fields=(
        Field("kind", CHOICE, choices=SUPPORT_KINDS, default="none"),
        Field("amount", MONEY, max=10_000_000_000, default="zero"),
        Field("source", TEXT, max_length=200, default="none", optional=True),
        Field("given_on", DATE, default="none"),
    ),
    confirm_key="form.support.confirm",
)

REGISTRATION = FormSpec(
    key="registration",
    fields=(
        Field("target_year", YEAR, min=2020, max=2100, default="none"),
        Field("plan_kind", CHOICE, choices=PLAN_KINDS, default="none"),
        Field("plan_text", TEXT, max_length=500, default="none", optional=True),
        Field("support_asked", MULTI, choices=SUPPORT_KINDS, default="none", optional=True),
        Field("registered_on", DATE, default="none"),
    ),
    confirm_key="form.registration.confirm",
)

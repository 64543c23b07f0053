"""The deprivation indicators the code knows, each with its texts in the catalogue.

A poverty standard in ``config.toml`` lists some of these keys (``common.config`` refuses any
other); a new indicator needs its label and question in ``common/catalogue.py`` and one line
here. Nothing here imports from the project's other packages.
"""

from __future__ import annotations

# Every indicator a standard may list -> (label key, yes/no question key) in the catalogue.
# A "yes" to the question means the household is deprived on that indicator.
INDICATORS: dict[str, tuple[str, str]] = {
    # dimension viec_lam (employment)
    "employment": (
        "poverty.indicator.employment.label",
        "poverty.indicator.employment.question",
    ),
    "dependants": (
        "poverty.indicator.dependants.label",
        "poverty.indicator.dependants.question",
    ),
    # dimension y_te (health)
    "nutrition": (
        "poverty.indicator.nutrition.label",
        "poverty.indicator.nutrition.question",
    ),
    "health_insurance": (
        "poverty.indicator.health_insurance.label",
        "poverty.indicator.health_insurance.question",
    ),
    # dimension giao_duc (education)
    "adult_education": (
        "poverty.indicator.adult_education.label",
        "poverty.indicator.adult_education.question",
    ),
    "child_schooling": (
        "poverty.indicator.child_schooling.label",
        "poverty.indicator.child_schooling.question",
    ),
    # dimension nha_o (housing)
    "housing_quality": (
        "poverty.indicator.housing_quality.label",
        "poverty.indicator.housing_quality.question",
    ),
    "housing_area": (
        "poverty.indicator.housing_area.label",
        "poverty.indicator.housing_area.question",
    ),
    # dimension nuoc_ve_sinh (water and sanitation)
    "water": (
        "poverty.indicator.water.label",
        "poverty.indicator.water.question",
    ),
    "sanitation": (
        "poverty.indicator.sanitation.label",
        "poverty.indicator.sanitation.question",
    ),
    # dimension thong_tin (information)
    "telecom": (
        "poverty.indicator.telecom.label",
        "poverty.indicator.telecom.question",
    ),
    "information_access": (
        "poverty.indicator.information_access.label",
        "poverty.indicator.information_access.question",
    ),
}

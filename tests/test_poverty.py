"""Tests for reports/poverty.py and the [poverty] settings: the standards, the classifier."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.catalogue import MESSAGES
from common.config import (
    ConfigError,
    Indicator,
    PovertyConfig,
    Standard,
    load_config,
    replace,
    shipped_poverty,
)
from reports.poverty import (
    AVERAGE,
    INDICATORS,
    NEAR_POOR,
    OTHER,
    POOR,
    STATUSES,
    Classification,
    NoStandardError,
    classify,
    explain,
    indicator_label,
    indicator_question,
    standard_for,
    status_label,
)

ROOT = Path(__file__).resolve().parent.parent
CFG = load_config(ROOT / "config.toml", env={}).poverty
KEYS_2022 = (
    "employment", "dependants", "nutrition", "health_insurance", "adult_education",
    "child_schooling", "housing_quality", "housing_area", "water", "sanitation", "telecom",
    "information_access",
)
ND07 = "Nghị định 07/2021/NĐ-CP"
ND351 = "Nghị định 351/2025/NĐ-CP"


def lacking(n: int) -> set[str]:
    """The first ``n`` indicators: a household lacking ``n`` of them."""
    return set(KEYS_2022[:n])


# --- the shipped standards (DOMAIN §4) -----------------------------------------------------

# year -> (decree, rural line, urban line, rural average max, urban average max)
SHIPPED = {
    2022: (ND07, 1_500_000, 2_000_000, 2_250_000, 3_000_000),
    2026: (ND07, 1_500_000, 2_000_000, 2_250_000, 3_000_000),
    2027: (ND351, 2_200_000, 2_800_000, 3_300_000, 4_200_000),  # average bounds unverified
    2030: (ND351, 2_200_000, 2_800_000, 3_300_000, 4_200_000),
}


@pytest.mark.parametrize("year", sorted(SHIPPED))
def test_the_year_picks_its_standard(year):
    name, rural, urban, rural_max, urban_max = SHIPPED[year]
    standard = standard_for(CFG, year)
    assert (standard.name, standard.rural_income_line, standard.urban_income_line) == (
        name, rural, urban,
    )
    assert (standard.average_rural_max, standard.average_urban_max) == (rural_max, urban_max)
    assert standard.min_deprivations_poor == 3
    assert standard.indicator_keys == KEYS_2022


def test_shipped_periods_and_settings():
    assert [(s.first_year, s.last_year) for s in CFG.standards] == [(2022, 2026), (2027, 2030)]
    assert CFG.recently_exited_months == 36
    dims = {i.key: i.dimension for i in CFG.standards[0].indicators}
    assert dims["employment"] == dims["dependants"] == "viec_lam"
    assert {i.dimension for i in CFG.standards[0].indicators} == {
        "viec_lam", "y_te", "giao_duc", "nha_o", "nuoc_ve_sinh", "thong_tin",
    }


@pytest.mark.parametrize("year", [1999, 2021, 2031, 2100])
def test_a_year_without_standard_is_a_clear_error(year):
    with pytest.raises(NoStandardError) as info:
        standard_for(CFG, year)
    assert str(year) in str(info.value)
    assert "2022–2026, 2027–2030" in str(info.value)
    assert "[[poverty.standards]]" in str(info.value)
    assert info.value.key == "poverty.no_standard" and info.value.params == {"year": year}
    assert isinstance(info.value, LookupError)


def test_no_standard_at_all():
    with pytest.raises(NoStandardError, match="configured years: none"):
        # built unchecked: as a setting, an empty list of standards is refused
        standard_for(PovertyConfig.model_construct(standards=()), 2026)


# --- classification at and around every threshold -----------------------------------------

# (year, urban, income line, average max): every threshold of both standards.
THRESHOLDS = [
    (year, urban, line, top)
    for year, (_, rural, urban_line, rural_max, urban_max) in SHIPPED.items()
    for urban, line, top in ((False, rural, rural_max), (True, urban_line, urban_max))
]

# (income is relative to, offset in đồng, deprivations, expected status)
RULES = [
    ("line", 0, 3, POOR),  # exactly on the line
    ("line", 0, 2, NEAR_POOR),
    ("line", 0, 0, NEAR_POOR),
    ("line", 0, 12, POOR),
    ("line", -1, 3, POOR),
    ("line", -1, 2, NEAR_POOR),
    ("line", -1, 12, POOR),
    ("line", +1, 2, AVERAGE),  # one đồng above: never poor, whatever it lacks
    ("line", +1, 3, AVERAGE),
    ("line", +1, 12, AVERAGE),
    ("line", +1, 0, AVERAGE),
    ("max", -1, 12, AVERAGE),
    ("max", 0, 0, AVERAGE),  # exactly on the top of the average band
    ("max", 0, 12, AVERAGE),
    ("max", +1, 0, OTHER),
    ("max", +1, 12, OTHER),
    ("zero", 0, 0, NEAR_POOR),
    ("zero", 0, 2, NEAR_POOR),
    ("zero", 0, 3, POOR),
    ("zero", 0, 12, POOR),
]

CASES = [
    pytest.param(year, urban, line, top, base, offset, n, status,
                 id=f"{year}-{'urban' if urban else 'rural'}-{base}{offset:+d}-lacks{n}")
    for year, urban, line, top in THRESHOLDS
    for base, offset, n, status in RULES
]


@pytest.mark.parametrize("year,urban,line,top,base,offset,deprivations,status", CASES)
def test_classify_around_thresholds(year, urban, line, top, base, offset, deprivations, status):
    income = {"line": line, "max": top, "zero": 0}[base] + offset
    c = classify(standard_for(CFG, year), income_per_person=income,
                 deprived=lacking(deprivations), urban=urban)
    assert c.status == status
    assert c.income_line == line and c.average_max == top
    assert c.deprivations == deprivations and c.min_deprivations == 3
    assert c.reason_key == f"poverty.reason.{status}"
    assert c.income_per_person == income and c.urban is urban


def test_same_income_differs_by_area_and_period():
    """1.800.000đ: average in the countryside in 2026, near-poor in town, poor in 2027."""
    nd07, nd351 = standard_for(CFG, 2026), standard_for(CFG, 2027)
    assert classify(nd07, income_per_person=1_800_000, deprived=lacking(3), urban=False).status \
        == AVERAGE
    assert classify(nd07, income_per_person=1_800_000, deprived=lacking(3), urban=True).status \
        == POOR
    assert classify(nd351, income_per_person=1_800_000, deprived=lacking(3), urban=False).status \
        == POOR
    assert classify(nd351, income_per_person=1_800_000, deprived=(), urban=False).status \
        == NEAR_POOR


def test_deprived_is_any_iterable_and_duplicates_count_once():
    standard = standard_for(CFG, 2026)
    for deprived in (["water", "telecom", "water"], ("water", "telecom"),
                     iter(["telecom", "water"]), frozenset({"water", "telecom"})):
        c = classify(standard, income_per_person=0, deprived=deprived, urban=False)
        assert c.deprivations == 2 and c.status == NEAR_POOR
        assert c.deprived == ("water", "telecom")  # the standard's order


@pytest.mark.parametrize("deprived", [{"employment", "wifi"}, {"Employment"}, {""}, "water"])
def test_unknown_indicators_are_refused(deprived):
    with pytest.raises(ValueError):
        classify(standard_for(CFG, 2026), income_per_person=1, deprived=deprived, urban=False)


def test_an_indicator_not_in_this_standard_is_refused():
    only_two = replace(
        standard_for(CFG, 2026), min_deprivations_poor=1,
        indicators=(Indicator(key="employment", dimension="viec_lam"),
                    Indicator(key="water", dimension="nuoc_ve_sinh")),
    )
    with pytest.raises(ValueError, match="telecom"):
        classify(only_two, income_per_person=1, deprived={"telecom"}, urban=False)
    c = classify(only_two, income_per_person=1, deprived={"water"}, urban=False)
    assert c.status == POOR and c.min_deprivations == 1


@pytest.mark.parametrize("income", [-1, -1_500_000, 1.5, 1_500_000.0, True, "1500000", None])
def test_bad_incomes_are_refused(income):
    with pytest.raises(ValueError):
        classify(standard_for(CFG, 2026), income_per_person=income, deprived=(), urban=False)


def test_classification_is_hashable_and_comparable():
    standard = standard_for(CFG, 2026)
    a = classify(standard, income_per_person=5, deprived={"water"}, urban=False)
    b = classify(standard, income_per_person=5, deprived=["water"], urban=False)
    assert a == b and hash(a) == hash(b) and isinstance(a, Classification)


# --- properties ------------------------------------------------------------------------------

RANK = {status: i for i, status in enumerate(STATUSES)}  # poorest first
standards = st.sampled_from(CFG.standards)
subsets = st.sets(st.sampled_from(KEYS_2022))
incomes = st.integers(min_value=0, max_value=20_000_000)


@given(standard=standards, urban=st.booleans(), deprived=subsets,
       above=st.integers(min_value=1, max_value=10**12))
def test_above_the_line_is_never_poor_or_near_poor(standard, urban, deprived, above):
    income = standard.income_line(urban=urban) + above
    c = classify(standard, income_per_person=income, deprived=deprived, urban=urban)
    assert c.status in {AVERAGE, OTHER}


@given(standard=standards, urban=st.booleans(), deprived=subsets, a=incomes, b=incomes)
def test_more_income_never_makes_a_household_poorer(standard, urban, deprived, a, b):
    low, high = sorted((a, b))
    poorer = classify(standard, income_per_person=low, deprived=deprived, urban=urban)
    richer = classify(standard, income_per_person=high, deprived=deprived, urban=urban)
    assert RANK[richer.status] >= RANK[poorer.status]


@given(standard=standards, urban=st.booleans(), income=incomes, fewer=subsets, more=subsets)
def test_more_deprivations_never_make_a_household_less_poor(standard, urban, income, fewer,
                                                            more):
    more = more | fewer
    c_fewer = classify(standard, income_per_person=income, deprived=fewer, urban=urban)
    c_more = classify(standard, income_per_person=income, deprived=more, urban=urban)
    assert RANK[c_more.status] <= RANK[c_fewer.status]


@given(standard=standards, urban=st.booleans(), income=incomes, deprived=subsets)
def test_the_rules_of_domain_section_4(standard, urban, income, deprived):
    c = classify(standard, income_per_person=income, deprived=deprived, urban=urban)
    line = standard.income_line(urban=urban)
    assert (c.status == POOR) == (income <= line and len(deprived) >= 3)
    assert (c.status == NEAR_POOR) == (income <= line and len(deprived) < 3)
    assert (c.status == OTHER) == (income > standard.average_max(urban=urban))
    assert explain(c)  # every classification can be explained


# --- explanations ----------------------------------------------------------------------------

EXPLAINED = [
    (2026, False, 1_300_000, 4,
     "Thu nhập 1.300.000đ/người/tháng ≤ chuẩn nghèo nông thôn 1.500.000đ, thiếu 4/12 chỉ số "
     "(từ 3 chỉ số trở lên) → hộ nghèo theo Nghị định 07/2021/NĐ-CP."),
    (2026, True, 2_000_000, 2,
     "Thu nhập 2.000.000đ/người/tháng ≤ chuẩn nghèo thành thị 2.000.000đ, thiếu 2/12 chỉ số "
     "(dưới 3 chỉ số) → hộ cận nghèo theo Nghị định 07/2021/NĐ-CP."),
    (2022, False, 1_500_000, 0,
     "Thu nhập 1.500.000đ/người/tháng ≤ chuẩn nghèo nông thôn 1.500.000đ, thiếu 0/12 chỉ số "
     "(dưới 3 chỉ số) → hộ cận nghèo theo Nghị định 07/2021/NĐ-CP."),
    (2026, False, 1_500_001, 12,
     "Thu nhập 1.500.001đ/người/tháng > chuẩn nghèo nông thôn 1.500.000đ và ≤ 2.250.000đ → hộ có "
     "mức sống trung bình theo Nghị định 07/2021/NĐ-CP. Hộ có thu nhập trên chuẩn nghèo thì "
     "không xét chỉ số thiếu hụt."),
    (2027, True, 4_200_001, 5,
     "Thu nhập 4.200.001đ/người/tháng > 4.200.000đ, mức cao nhất của hộ có mức sống trung bình "
     "thành thị → hộ khác (trên mức trung bình) theo Nghị định 351/2025/NĐ-CP. Hộ có thu nhập "
     "trên chuẩn nghèo thì không xét chỉ số thiếu hụt."),
    (2030, False, 2_200_000, 3,
     "Thu nhập 2.200.000đ/người/tháng ≤ chuẩn nghèo nông thôn 2.200.000đ, thiếu 3/12 chỉ số "
     "(từ 3 chỉ số trở lên) → hộ nghèo theo Nghị định 351/2025/NĐ-CP."),
]


@pytest.mark.parametrize("year,urban,income,deprivations,sentence", EXPLAINED)
def test_explain_gives_the_figures(year, urban, income, deprivations, sentence):
    c = classify(standard_for(CFG, year), income_per_person=income,
                 deprived=lacking(deprivations), urban=urban)
    assert explain(c) == sentence
    assert explain(c) == MESSAGES[c.reason_key].format(**c.reason_params)


def test_status_labels():
    assert [status_label(s) for s in STATUSES] == [
        "hộ nghèo", "hộ cận nghèo", "hộ có mức sống trung bình", "hộ khác (trên mức trung bình)",
    ]


def test_every_reason_fills_its_placeholders():
    params = classify(standard_for(CFG, 2026), income_per_person=0, deprived=(),
                      urban=False).reason_params
    for status in STATUSES:
        names = {n for _, n, _, _ in string.Formatter().parse(MESSAGES[f"poverty.reason.{status}"])
                 if n}
        assert names <= params.keys(), status


# --- the catalogue has every indicator's question and label ----------------------------------

ALL_INDICATORS = sorted({i.key for s in CFG.standards for i in s.indicators} | set(INDICATORS))


@pytest.mark.parametrize("key", ALL_INDICATORS)
def test_every_indicator_has_a_short_question_and_a_label(key):
    assert INDICATORS[key] == (f"poverty.indicator.{key}.label",
                               f"poverty.indicator.{key}.question")
    label, question = indicator_label(key), indicator_question(key)
    assert label == MESSAGES[f"poverty.indicator.{key}.label"]
    assert question == MESSAGES[f"poverty.indicator.{key}.question"]
    assert label[0].isupper() and len(label) <= 40 and not label.endswith(".")
    assert question[0].isupper() and question.endswith("không?") and len(question) <= 100
    assert "{" not in question + label


def test_questions_are_distinct():
    questions = [indicator_question(k) for k in INDICATORS]
    assert len(set(questions)) == len(questions) == 12


# --- [poverty] in config files ---------------------------------------------------------------


def _toml(value) -> str:
    """Just enough TOML for these tests: strings, integers, lists, inline tables."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def _standard(name, first, last, rural, urban, rural_max, urban_max, keys=KEYS_2022) -> dict:
    return {
        "name": name, "first_year": first, "last_year": last,
        "rural_income_line": rural, "urban_income_line": urban, "min_deprivations_poor": 3,
        "average_rural_max": rural_max, "average_urban_max": urban_max,
        "indicators": [{"key": k, "dimension": "d"} for k in keys],
    }


def _good() -> dict:
    return {
        "recently_exited_months": 24,
        "standards": [
            _standard("Old", 2022, 2026, 1_500_000, 2_000_000, 2_250_000, 3_000_000),
            _standard("New", 2027, 2030, 2_200_000, 2_800_000, 3_300_000, 4_200_000),
        ],
    }


def _write(tmp_path: Path, poverty: dict | None) -> Path:
    lines = ['[database]\npath = "db.sqlite3"\n']
    if poverty is not None:
        lines.append("[poverty]\n")
        for name, value in poverty.items():
            if name != "standards" or not value:
                lines.append(f"{name} = {_toml(value)}\n")
        for standard in poverty.get("standards", []):
            lines.append("[[poverty.standards]]\n")
            lines += [f"{k} = {_toml(v)}\n" for k, v in standard.items()]
    path = tmp_path / "config.toml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_a_valid_poverty_section_is_loaded(tmp_path):
    cfg = load_config(_write(tmp_path, _good()), env={}).poverty
    assert cfg.recently_exited_months == 24
    assert [s.name for s in cfg.standards] == ["Old", "New"]
    assert standard_for(cfg, 2027) == Standard(
        name="New", first_year=2027, last_year=2030, rural_income_line=2_200_000,
        urban_income_line=2_800_000, min_deprivations_poor=3, average_rural_max=3_300_000,
        average_urban_max=4_200_000,
        indicators=tuple(Indicator(key=k, dimension="d") for k in KEYS_2022),
    )


def test_a_new_decree_is_a_config_change(tmp_path):
    data = _good()
    data["standards"][1]["last_year"] = 2028
    data["standards"].append(_standard("Next", 2029, 2035, 3_000_000, 4_000_000, 4_500_000,
                                       6_000_000, keys=KEYS_2022[:6]))
    data["standards"][2]["min_deprivations_poor"] = 2
    cfg = load_config(_write(tmp_path, data), env={}).poverty
    standard = standard_for(cfg, 2031)
    assert standard.name == "Next" and len(standard.indicators) == 6
    c = classify(standard, income_per_person=3_000_000, deprived={"employment", "nutrition"},
                 urban=False)
    assert c.status == POOR and explain(c).startswith("Thu nhập 3.000.000đ/người/tháng ≤")
    with pytest.raises(ValueError):  # "water" is not an indicator of this standard
        classify(standard, income_per_person=0, deprived={"water"}, urban=False)


def test_without_a_poverty_section_the_shipped_standards_apply(tmp_path):
    cfg = load_config(_write(tmp_path, None), env={}).poverty
    assert cfg == shipped_poverty() == CFG
    only_months = load_config(_write(tmp_path, {"recently_exited_months": 12}), env={}).poverty
    assert only_months.standards == CFG.standards and only_months.recently_exited_months == 12


def test_the_shipped_file_itself_must_list_standards(tmp_path, monkeypatch):
    import common.config as config_module

    path = _write(tmp_path, {"recently_exited_months": 12})
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG", path)
    with pytest.raises(ConfigError, match=r"poverty\.standards is missing"):
        load_config(path, env={})


def _set(i, name, value):
    def change(data):
        data["standards"][i][name] = value
    return change


def _drop(i, name):
    def change(data):
        del data["standards"][i][name]
    return change


def _indicator(i, j, **fields):
    def change(data):
        item = data["standards"][i]["indicators"][j]
        item.update(fields)
        for name in [k for k, v in item.items() if v is None]:
            del item[name]
    return change


def _top(name, value):
    def change(data):
        data[name] = value
    return change


def _swap(data):
    data["standards"].reverse()


def _duplicate(data):
    data["standards"][0]["indicators"][11]["key"] = "employment"


# (change to the good config, the setting the error must name)
BAD = [
    pytest.param(_drop(0, "name"), "poverty.standards[0].name", id="missing-name"),
    pytest.param(_set(0, "name", "  "), "poverty.standards[0].name", id="empty-name"),
    pytest.param(_drop(1, "rural_income_line"), "poverty.standards[1].rural_income_line",
                 id="missing-line"),
    pytest.param(_drop(0, "indicators"), "poverty.standards[0].indicators",
                 id="missing-indicators"),
    pytest.param(_drop(0, "average_urban_max"), "poverty.standards[0].average_urban_max",
                 id="missing-average-max"),
    pytest.param(_drop(0, "first_year"), "poverty.standards[0].first_year", id="missing-year"),
    pytest.param(_set(0, "rural_line", 1), "poverty.standards[0].rural_line", id="typo-field"),
    pytest.param(_set(0, "rural_income_line", 0), "poverty.standards[0].rural_income_line",
                 id="line-zero"),
    pytest.param(_set(1, "urban_income_line", -2_800_000),
                 "poverty.standards[1].urban_income_line", id="line-negative"),
    pytest.param(_set(0, "rural_income_line", 1.5e6), "poverty.standards[0].rural_income_line",
                 id="line-float"),
    pytest.param(_set(0, "rural_income_line", "1.500.000"),
                 "poverty.standards[0].rural_income_line", id="line-text"),
    pytest.param(_set(0, "average_rural_max", 1_499_999), "poverty.standards[0].average_rural_max",
                 id="average-below-line"),
    pytest.param(_set(1, "average_urban_max", 2_800_000), "poverty.standards[1].average_urban_max",
                 id="average-equal-line"),
    pytest.param(_set(0, "last_year", 2021), "poverty.standards[0].last_year",
                 id="years-reversed"),
    pytest.param(_set(0, "first_year", 22), "poverty.standards[0].first_year", id="not-a-year"),
    pytest.param(_set(1, "first_year", 2026), "poverty.standards[1].first_year", id="overlap"),
    pytest.param(_set(1, "first_year", 2028), "poverty.standards[1].first_year", id="gap"),
    pytest.param(_swap, "poverty.standards[1].first_year", id="unordered"),
    pytest.param(_set(0, "min_deprivations_poor", 0), "poverty.standards[0].min_deprivations_poor",
                 id="min-0"),
    pytest.param(_set(0, "min_deprivations_poor", 13),
                 "poverty.standards[0].min_deprivations_poor", id="min-13"),
    pytest.param(_set(0, "min_deprivations_poor", True),
                 "poverty.standards[0].min_deprivations_poor", id="min-bool"),
    pytest.param(_indicator(0, 3, key="wifi"), "poverty.standards[0].indicators[3].key",
                 id="unknown-indicator"),
    pytest.param(_duplicate, "poverty.standards[0].indicators[11].key", id="duplicate-indicator"),
    pytest.param(_indicator(1, 0, dimension=None), "poverty.standards[1].indicators[0].dimension",
                 id="missing-dimension"),
    pytest.param(_indicator(1, 0, key=None), "poverty.standards[1].indicators[0].key",
                 id="missing-key"),
    pytest.param(_indicator(0, 2, dimension=""), "poverty.standards[0].indicators[2].dimension",
                 id="empty-dimension"),
    pytest.param(_indicator(0, 2, weight=1), "poverty.standards[0].indicators[2].weight",
                 id="unknown-indicator-field"),
    pytest.param(_set(0, "indicators", []), "poverty.standards[0].indicators",
                 id="no-indicators"),
    pytest.param(_set(0, "indicators", ["employment"]), "poverty.standards[0].indicators[0]",
                 id="indicator-not-a-table"),
    pytest.param(_top("standards", []), "poverty.standards", id="no-standards"),
    pytest.param(_top("recently_exited_months", -1), "poverty.recently_exited_months",
                 id="months-negative"),
    pytest.param(_top("recently_exited_months", "36"), "poverty.recently_exited_months",
                 id="months-text"),
]


@pytest.mark.parametrize("change,setting", BAD)
def test_bad_poverty_settings_are_refused_at_start_up(tmp_path, change, setting):
    data = _good()
    change(data)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data), env={})
    message = str(info.value)
    assert message.startswith(f"setting {setting} "), message


def test_standards_must_be_tables(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[poverty]\nstandards = [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^setting poverty\.standards\[0\] must be a table"):
        load_config(path, env={})
    path.write_text("poverty = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^setting poverty must be a table"):
        load_config(path, env={})


def test_lacking_text_says_what_is_lacking():
    from reports.poverty import lacking_text

    assert lacking_text(["health_insurance", "sanitation"], 12) == \
        "Thiếu 2/12 chỉ số: bảo hiểm y tế, nhà tiêu hợp vệ sinh."
    assert lacking_text(("water", "water")) == "Thiếu 1 chỉ số: nguồn nước sinh hoạt."
    assert lacking_text([], 12) == "Không thiếu chỉ số nào."

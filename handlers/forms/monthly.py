"""The monthly village report, as data: ten fields and the rules between them."""

from __future__ import annotations

from common.catalogue import t
from common.config import MonthlyReportConfig
from handlers.forms.engine import COUNT, MONEY, TEXT, Check, Field, FormSpec
from storage.reports import MONTHLY_FORM

FIELDS = (
    Field("total", COUNT, min=1, max=20_000),
    Field("poor", COUNT, max=20_000),
    Field("near_poor", COUNT, max=20_000),
    Field("exited", COUNT, max=20_000, default="zero"),
    Field("newly_poor", COUNT, max=20_000, default="zero"),
    Field("fallen_back", COUNT, max=20_000, default="zero"),
    Field("em_poor", COUNT, max=20_000),
    Field("loans", COUNT, max=20_000),
    Field("support_vnd", MONEY, max=100_000_000_000, default="zero"),
    Field("note", TEXT, default="none", optional=True, max_length=1000),
)

# Counts compared with last month for the "are you sure?" warning.
TRACKED = ("total", "poor", "near_poor", "em_poor", "loans")
# Counts a village's household list yields (storage.households.village_figures). A list drives
# the report only once it is complete: marked so by the head or an officer, or as many
# households as the total reported. Then they are the defaults, and a typed figure that
# differs asks "are you sure?". The draft keeps them as ``listed``, with ``complete``.
FROM_LIST = ("total", "poor", "near_poor", "exited", "newly_poor", "fallen_back", "em_poor",
             "loans")


def list_in_force(listed: dict | None, total: object) -> bool:
    """True when the household list ``listed`` drives a report whose total is ``total``."""
    if not listed:
        return False
    return bool(listed.get("complete")) or (total is not None
                                             and int(total) == int(listed["total"]))


def _poor_near_le_total(v: dict, prev: dict | None) -> dict | None:
    if v["poor"] + v["near_poor"] > v["total"]:
        return {"poor": v["poor"], "near_poor": v["near_poor"], "total": v["total"]}
    return None


def _em_le_poor(v: dict, prev: dict | None) -> dict | None:
    return {"em_poor": v["em_poor"], "poor": v["poor"]} if v["em_poor"] > v["poor"] else None


def _loans_le_poor_near(v: dict, prev: dict | None) -> dict | None:
    if v["loans"] > v["poor"] + v["near_poor"]:
        return {"loans": v["loans"], "sum": v["poor"] + v["near_poor"]}
    return None


def _new_le_poor(v: dict, prev: dict | None) -> dict | None:
    if v["newly_poor"] + v["fallen_back"] > v["poor"]:
        return {"added": v["newly_poor"] + v["fallen_back"], "poor": v["poor"]}
    return None


def _balance(v: dict, prev: dict | None) -> dict | None:
    if not prev or prev.get("poor") is None:
        return None
    expected = prev["poor"] - v["exited"] + v["newly_poor"] + v["fallen_back"]
    if v["poor"] == expected:
        return None
    return {"poor": v["poor"], "prev": prev["poor"], "exited": v["exited"],
            "newly": v["newly_poor"], "fallen": v["fallen_back"], "expected": expected}


def _exited_le_prev(v: dict, prev: dict | None) -> dict | None:
    if prev and prev.get("poor") is not None and v["exited"] > prev["poor"]:
        return {"exited": v["exited"], "prev": prev["poor"]}
    return None


def _change(key: str, share: float, minimum: int):
    def test(v: dict, prev: dict | None) -> dict | None:
        if not prev or prev.get(key) is None:
            return None
        before, now = int(prev[key]), int(v[key])
        if abs(now - before) < minimum or abs(now - before) <= share * before:
            return None
        percent = "∞" if before == 0 else f"{round(100 * (now - before) / before):+d}"
        return {"before": before, "now": now, "percent": percent}

    return test


def _differs_from_list(key: str):
    def test(v: dict, listed: dict | None) -> dict | None:
        if not list_in_force(listed, v["total"]) or listed.get(key) is None:
            return None
        if int(v[key]) == int(listed[key]):
            return None
        return {"label": t(f"form.{MONTHLY_FORM}.{key}.label"), "typed": v[key],
                "listed": listed[key]}

    return test


def monthly_spec(cfg: MonthlyReportConfig) -> FormSpec:
    checks = [
        Check("poor_near_le_total", ("total", "poor", "near_poor"), True, _poor_near_le_total),
        Check("em_le_poor", ("poor", "em_poor"), True, _em_le_poor),
        Check("loans_le_poor_near", ("poor", "near_poor", "loans"), True, _loans_le_poor_near),
        # About several fields: a number typed at it makes the bot ask which one.
        Check("new_le_poor", ("poor", "newly_poor", "fallen_back"), False, _new_le_poor),
        Check("exited_le_prev", ("exited",), False, _exited_le_prev),
        # «Số hộ nghèo 16 chưa khớp…»: a number typed at it is the number of poor households.
        Check("balance", ("poor", "exited", "newly_poor", "fallen_back"), False, _balance,
              about="poor"),
    ]
    checks += [
        Check(f"change_{key}", (key,), False,
              _change(key, cfg.change_warning_share, cfg.change_warning_min))
        for key in TRACKED
    ]
    checks += [
        Check(f"list_{key}", tuple(dict.fromkeys(("total", key))), False, _differs_from_list(key),
              source="listed", message_key="form.monthly_village.differs_from_list", about=key)
        for key in FROM_LIST
    ]
    return FormSpec(
        key=MONTHLY_FORM,
        fields=FIELDS,
        checks=tuple(checks),
        extra_first_options=(("report.option.change_period", "period"),),
    )

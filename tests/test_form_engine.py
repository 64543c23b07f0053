"""The form engine: its field kinds, through the household forms, and what every form gets
(pure: no database)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.config import MonthlyReportConfig
from handlers.forms.engine import FormEngine
from handlers.forms.households import (
    HOUSEHOLD,
    HOUSEHOLD_EDIT,
    REGISTRATION,
    SUPPORT,
    assessment_spec,
)
from handlers.forms.monthly import monthly_spec
from handlers.forms.movement import HALF_YEAR, YEARLY


def start(spec, **draft):
    engine = FormEngine(spec)
    step = engine.start({"today": "2026-11-05", **draft})
    return engine, step.draft, step.messages[-1]


def labels(message):
    return [o.label for o in message.options]


def test_year_bounds_come_from_the_draft():
    engine, draft, question = start(REGISTRATION, bounds={"target_year": [2026, 2030]})
    assert "(1/5)" in question.text and question.free_input
    step = engine.answer(draft, "2025", None)
    assert "từ 2026 đến 2030" in step.messages[0].text  # years shown without a dot
    step = engine.answer(draft, "2027", None)
    assert "(2/5)" in step.messages[-1].text


def test_choice_is_a_numbered_list_answered_by_option_or_label():
    engine, draft, _ = start(REGISTRATION, bounds={"target_year": [2026, 2030]})
    step = engine.answer(draft, "2027", None)
    question = step.messages[-1]
    assert not question.free_input and labels(question)[:2] == ["Trồng trọt", "Chăn nuôi"]
    step = engine.answer(draft, "nuoi ga", None)
    assert "gõ số thứ tự từ 1 đến 6" in step.messages[0].text
    step = engine.answer(draft, "chan nuoi", None)
    assert draft["values"]["plan_kind"] == "livestock"
    step = engine.answer(draft, "", "skip")
    assert draft["values"]["plan_text"] is None


def test_multi_choice_by_toggling_or_by_typed_numbers():
    engine, draft, _ = start(REGISTRATION, bounds={"target_year": [2026, 2030]})
    for text, action in (("2027", None), ("", "val:livestock"), ("Nuôi bò", None)):
        step = engine.answer(draft, text, action)
    question = step.messages[-1]
    assert "Vay vốn" in labels(question) and "✔️ Xong" in labels(question)
    step = engine.answer(draft, "", "toggle:0")
    step = engine.answer(draft, "", "toggle:2")
    step = engine.answer(draft, "", "toggle:0")  # chosen again: unchosen
    assert "Đã chọn: Học nghề" in step.messages[-1].text
    assert "✔ Học nghề" in labels(step.messages[-1])
    step = engine.answer(draft, "", "done")
    assert draft["values"]["support_asked"] == ["training"]
    step = engine.answer(draft, "hôm nay", None)
    summary = step.messages[-1].text
    assert "4. Hỗ trợ đề nghị: Học nghề" in summary and "5. Ngày đăng ký: 05/11/2026" in summary
    step = engine.answer(draft, "sửa 4", None)
    step = engine.answer(draft, "1, 5", None)
    assert draft["values"]["support_asked"] == ["loan", "housing"]
    step = engine.answer(draft, "", "send")
    assert step.submitted


def test_multi_choice_refuses_numbers_out_of_range_and_accepts_none():
    engine, draft, _ = start(REGISTRATION, bounds={"target_year": [2026, 2030]})
    for text, action in (("2027", None), ("", "val:crops"), ("", "skip")):
        engine.answer(draft, text, action)
    step = engine.answer(draft, "1 9", None)
    assert "từ 1 đến 6" in step.messages[0].text
    engine.answer(draft, "không", None)
    assert draft["values"]["support_asked"] == []


def test_dates_typed_the_vietnamese_way_never_in_the_future():
    engine, draft, _ = start(SUPPORT)
    for text, action in (("", "val:loan"), ("20tr", None), ("NHCSXH huyện", None)):
        step = engine.answer(draft, text, action)
    assert labels(step.messages[-1])[0] == "Hôm nay"
    step = engine.answer(draft, "31/12/2026", None)
    assert "không nhận ngày trong tương lai" in step.messages[0].text
    step = engine.answer(draft, "30/2/2026", None)
    assert "ngày/tháng/năm" in step.messages[0].text
    step = engine.answer(draft, "3/11", None)
    assert draft["values"]["given_on"] == "2026-11-03"
    assert "2. Giá trị (đồng): 20.000.000đ" in step.messages[-1].text


# ---- the engine's depth: what every form gets ---------------------------------------------

def test_every_form_confirms_in_its_own_words():
    seen = {}
    for spec in (HOUSEHOLD, HOUSEHOLD_EDIT, SUPPORT, REGISTRATION, assessment_spec(()),
                 HALF_YEAR):
        engine = FormEngine(spec)
        draft = {"today": "2026-11-05", "values": {}, "idx": 0, "mode": "summary",
                 "accepted": [], "pending": None}
        text = engine.summary(draft).text.splitlines()[-1]
        seen[spec.key if spec is not HOUSEHOLD_EDIT else "edit"] = text
    assert "báo cáo" in seen["half_year"]
    for key in ("household", "edit", "support", "registration", "assessment"):
        assert "báo cáo" not in seen[key], (key, seen[key])
    assert len(set(seen.values())) == len(seen)


def test_an_implausible_amount_of_support_asks_are_you_sure():
    engine, draft, _ = start(SUPPORT)
    engine.answer(draft, "", "val:loan")
    step = engine.answer(draft, "500", None)
    assert "500đ" in step.messages[-1].text and "có chắc" in step.messages[-1].text
    step = engine.answer(draft, "5tr", None)  # a new amount instead
    assert "(3/4)" in step.messages[-1].text and draft["values"]["amount"] == 5_000_000


def test_one_line_reads_money_like_an_answer_and_honours_the_draft_bounds():
    engine = FormEngine(SUPPORT)
    step = engine.start({"today": "2026-11-05"}, ["Vay", "1", "500", "000", "NHCSXH", "huyện"])
    # "Vay" is not a choice label: the line stops at the first field
    assert "Mục 1 (Loại hỗ trợ)" in step.messages[0].text
    engine = FormEngine(REGISTRATION)
    step = engine.start({"today": "2026-11-05", "bounds": {"target_year": [2026, 2030]}},
                        ["2025"])
    assert "từ 2026 đến 2030" in step.messages[0].text


def test_numbers_in_other_scripts_are_not_a_crash():
    engine, draft, _ = start(REGISTRATION, bounds={"target_year": [2026, 2030]})
    for text, action in (("2027", None), ("", "val:crops"), ("", "skip")):
        engine.answer(draft, text, action)
    step = engine.answer(draft, "²", None)  # a multi-choice answer
    assert "từ 1 đến 6" in step.messages[0].text
    for text, action in (("", "done"), ("hôm nay", None)):
        step = engine.answer(draft, text, action)
    assert "Ghi nhận" in step.messages[-1].text or "sửa" in step.messages[-1].text
    step = engine.answer(draft, "sửa ²", None)
    assert step.messages and not step.submitted


# ---- hostile answers at every step of every form -------------------------------------------

SPECS = [monthly_spec(MonthlyReportConfig()), HOUSEHOLD, HOUSEHOLD_EDIT, SUPPORT, REGISTRATION,
         assessment_spec(("water", "telecom")), YEARLY]
HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "0", "1", "11", "sửa 11", "sửa ²", "²", "١٢", "1e400",
                     "99999999999999999999", "1tr5tr", "2 triệu", "-3", "\u200b", "\u202e12",
                     "có", "không", "đúng", "nhập lại", "hôm nay", "giữ nguyên", "x" * 3000]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_index=st.integers(0, len(SPECS) - 1),
       moves=st.lists(st.tuples(HOSTILE, st.booleans(), st.integers(0, 20)), max_size=40))
def test_hostile_answers_never_break_a_form(spec_index, moves):
    """Typed text or a pressed option at every step: a reply each time, never an exception,
    and a submitted form always meets its blocking checks."""
    engine = FormEngine(SPECS[spec_index])
    previous = {"total": 120, "poor": 15, "near_poor": 8, "em_poor": 22, "loans": 10}
    draft = {"today": "2026-11-05", "defaults": dict(previous), "previous": previous,
             "bounds": {"target_year": [2026, 2031]}}
    step = engine.start(draft)
    for text, press, which in moves:
        options = [o.data for o in step.messages[-1].options] if step.messages else []
        if press and options:
            step = engine.answer(step.draft, "", options[which % len(options)])
        else:
            step = engine.answer(step.draft, text, None)
        if step.cancelled or step.action:
            return
        if step.submitted:
            assert engine._complete(step.draft)
            assert not list(engine._broken(step.draft, blocking=True))
            for f in engine.spec.fields:
                value = step.draft["values"][f.key]
                assert value is not None or f.optional
            return
        assert step.messages and all(m.text for m in step.messages)


def test_a_warning_saved_before_the_upgrade_still_completes():
    """A dialog row written by the previous engine (the answer waited in ``pending``)."""
    engine = FormEngine(SUPPORT)
    draft = {"today": "2026-11-05", "values": {"kind": "loan"}, "idx": 1, "mode": "warn",
             "accepted": [], "pending": {"check": "implausible_amount", "value": 500,
                                         "message": "…"}}
    step = engine.answer(draft, "", "warn_ok")
    assert draft["values"]["amount"] == 500 and "(3/4)" in step.messages[-1].text


# ---- yes and no as people type them, at every question of every form ---------------------

YES_TYPED = ("có", "co", "Có ạ", "ok", "OK", "đúng", "dung", "đúng rồi", "dung roi", "ừ", "u",
             "vâng", "phải", "yes")
NO_TYPED = ("không", "khong", "ko", "k", "chưa", "chua", "không có", "sai", "no")
# At «Bạn có chắc…?»: the value typed is kept (= «Đúng, giữ số này»)…
SURE_TYPED = YES_TYPED + ("giữ nguyên", "giu nguyen", "giu", "giữ số này", "vẫn giữ")
# …or typed again (= «Nhập lại»).
NOT_SURE_TYPED = NO_TYPED + ("nhập lại", "sửa", "sai rồi")
# A valid answer to each question, in order, and a money answer that asks "are you sure?".
WALKS = [
    (monthly_spec(MonthlyReportConfig()),
     ["120", "15", "8", "2", "1", "0", "3", "10", "5tr", "Họp dân"]),
    (HOUSEHOLD, ["NK-001", "Lò Văn A", "1", "có", "không", "không", "có"]),
    (HOUSEHOLD_EDIT, ["NK-001", "Lò Văn A", "có", "không", "không", "có"]),
    (SUPPORT, ["1", "5tr", "NHCSXH", "hôm nay"]),
    (REGISTRATION, ["2027", "1", "Nuôi bò", "1 3", "hôm nay"]),
    (assessment_spec(("water", "telecom")), ["1tr", "có", "không"]),
    (HALF_YEAR, ["Họp dân", "5tr", "Nuôi bò", "Thiếu vốn", "Thêm vốn vay"]),
    (YEARLY, ["Họp dân", "5tr", "Nuôi bò", "Thiếu vốn", "Thêm vốn vay"]),
]
NOT_UNDERSTOOD = ("không phải là một số", "chọn một nút", "Tôi chưa hiểu")


def _copy(draft: dict) -> dict:
    import copy
    return copy.deepcopy(draft)


def _walk_to(spec, answers, upto: int | None = None):
    """The form answered up to question ``upto`` (None: to its summary)."""
    engine = FormEngine(spec)
    draft = {"today": "2026-11-05", "bounds": {"target_year": [2026, 2030]}}
    step = engine.start(draft)
    for i, text in enumerate(answers[:upto]):
        step = engine.answer(step.draft, text, None)
        assert step.draft["mode"] == "fill" or i == len(answers) - 1, (spec.key, i, step)
    return engine, step.draft


def test_every_question_of_every_form_understands_yes_and_no():
    """Each question, probed with the yes and no words people type (diacritics or not):
    a yes/no question takes them; an optional question is skipped by «không»; a count is 0;
    the summary sends on «có» and says what to type on «không»."""
    from handlers.forms.engine import COUNT, MONEY, TEXT, YESNO

    for spec, answers in WALKS:
        for i, f in enumerate(spec.fields):
            engine, draft = _walk_to(spec, answers, i)
            for word in YES_TYPED + NO_TYPED:
                step = engine.answer(_copy(draft), word, None)
                said = " ".join(m.text for m in step.messages)
                yes = word in YES_TYPED
                where = (spec.key, f.key, word)
                if f.kind == YESNO:
                    assert step.draft["values"][f.key] is yes, where
                elif f.optional and f.kind == TEXT and not yes:
                    assert step.draft["values"][f.key] is None, where  # skipped
                elif f.kind in (COUNT, MONEY) and not yes and word not in ("sai", "no"):
                    assert step.draft["values"].get(f.key) == 0 or "phải từ" in said, where
                assert not any(x in said for x in NOT_UNDERSTOOD[1:]), where
        engine, draft = _walk_to(spec, answers)
        assert draft["mode"] == "summary", spec.key
        for word in YES_TYPED:
            assert engine.answer(_copy(draft), word, None).submitted, (spec.key, word)
        for word in NO_TYPED:
            step = engine.answer(_copy(draft), word, None)
            said = " ".join(m.text for m in step.messages)
            assert not step.submitted and step.draft["mode"] == "summary", (spec.key, word)
            assert all(w in said for w in ("«gửi»", "«sửa 3»", "«hủy»")), (spec.key, word)


def test_at_every_warning_yes_keeps_the_value_and_no_asks_it_again():
    """Every form that asks "are you sure?" (an implausible amount, at least), at each of
    its money questions: the yes words keep the amount typed, the no words ask it again."""
    from handlers.forms.engine import MONEY

    seen = 0
    for spec, answers in WALKS:
        for i, f in enumerate(spec.fields):
            if f.kind != MONEY:
                continue
            engine, draft = _walk_to(spec, answers, i)
            step = engine.answer(draft, "500", None)
            assert step.draft["mode"] == "warn", (spec.key, f.key)
            seen += 1
            for word in SURE_TYPED:
                step = engine.answer(_copy(draft), word, None)
                where = (spec.key, f.key, word)
                assert step.draft["values"][f.key] == 500, where
                assert step.draft["mode"] != "warn", where
                assert f"({i + 2}/" in step.messages[-1].text or \
                    step.draft["mode"] == "summary", where
            for word in NOT_SURE_TYPED:
                step = engine.answer(_copy(draft), word, None)
                where = (spec.key, f.key, word)
                assert f.key not in step.draft["values"], where
                assert step.messages[-1].text.startswith(f"({i + 1}/"), where
    assert seen == 5  # the monthly report, support, assessment, 6-month and yearly reports


def test_no_at_the_fix_menu_goes_back_to_the_summary():
    engine, draft = _walk_to(SUPPORT, ["1", "5tr", "NHCSXH", "hôm nay"])
    step = engine.answer(draft, "", "fix")
    assert step.draft["mode"] == "pick_fix"
    step = engine.answer(step.draft, "không", None)
    assert step.draft["mode"] == "summary" and "Gửi" in step.messages[-1].text

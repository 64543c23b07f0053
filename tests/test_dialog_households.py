"""Households in chat: a village head keeps the list, an officer recognises changes."""

from __future__ import annotations

from datetime import date

import pytest

from storage import households as hh
from storage.audit import Actor
from tests.conftest import Chat

pytestmark = pytest.mark.usefixtures("world")
SETUP = Actor(None, "test:setup")


async def add(db, clock, village, code, name, status="poor", **flags):
    async with db.write() as conn:
        return await hh.add_household(conn, village_id=village.id, code=code, head_name=name,
                                      status=status, status_since=date(2025, 1, 1),
                                      actor=SETUP, at=clock(), **flags)


async def test_head_adds_a_household_in_chat(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/ho")
    assert "Tìm hộ" in reply
    reply = await head.press("Thêm hộ mới")
    assert "Bản Nà Khan" in reply and "(1/7) Mã hộ" in reply
    await head.send("NK-001")
    await head.send("Lò Văn Sơn")
    reply = await head.send("1")  # the first status in the list: hộ nghèo
    assert "(4/7)" in reply
    for answer in ("có", "khong", "Không", "co"):
        await head.send(answer)
    assert "3. Phân loại hộ: hộ nghèo" in head.text
    reply = await head.press("Gửi")
    assert "Đã thêm hộ NK-001" in reply and "Lò Văn Sơn" in reply
    assert "Phân loại: hộ nghèo" in reply and "Dân tộc thiểu số" in reply
    async with db.read() as conn:
        saved = await hh.household_by_code(conn, world.village.id, "NK-001")
    assert saved.ethnic_minority and saved.has_loan and not saved.has_merit


async def test_find_by_name_without_diacritics_and_classify(core, db, world, clock):
    await add(db, clock, world.village, "NK-002", "Lò Thị Mai", status="near_poor")
    await add(db, clock, world.village, "NK-003", "Lò Văn Tư")
    head = Chat(core, "100")
    reply = await head.send("/ho lo thi mai")
    assert "Hộ NK-002 — Lò Thị Mai" in reply and "hộ cận nghèo" in reply
    reply = await head.press("Cập nhật thu nhập")
    assert "(1/13) Thu nhập bình quân" in reply
    await head.send("1tr3")
    for answer in ["có"] * 4 + ["không"] * 8:
        await head.send(answer)
    reply = await head.press("Gửi")
    assert "1.300.000đ" in reply and "1.500.000đ" in reply and "thiếu 4/12" in reply
    assert "Đề xuất chuyển từ hộ cận nghèo sang hộ nghèo" in reply
    async with db.read() as conn:
        household = await hh.household_by_code(conn, world.village.id, "NK-002")
        (assessment,) = await hh.assessments(conn, household.id)
    assert household.status == "near_poor"  # a suggestion until an officer recognises it
    assert assessment.suggested_status == "poor" and len(assessment.deprived) == 4


async def test_heads_see_only_their_village(core, db, world, clock):
    await add(db, clock, world.village, "NK-004", "Lò Văn Páo")
    far_head = Chat(core, "400")
    reply = await far_head.send("/ho lo van pao")
    assert "Không tìm thấy hộ" in reply and "NK-004" not in reply


async def test_registration_life_cycle_and_the_monthly_count(core, db, world, clock):
    await add(db, clock, world.village, "NK-005", "Giàng A Lử")
    head = Chat(core, "100")
    reply = await head.send("/dangky")
    assert "Chưa có hộ nào đăng ký" in reply and "Đăng ký thoát nghèo cho hộ nào" in reply
    reply = await head.send("NK-005")
    assert "(1/5) Hộ đăng ký thoát nghèo trong năm nào" in reply
    reply = await head.send("2025")
    assert "từ 2026 đến 2031" in reply
    await head.send("2026")
    await head.press("Chăn nuôi")
    await head.send("Nuôi 2 con bò sinh sản")
    await head.press("Vay vốn")
    await head.press("Xong")
    reply = await head.press("Hôm nay")
    assert "4. Hỗ trợ đề nghị: Vay vốn" in reply
    reply = await head.press("Gửi")
    assert "Đã ghi nhận hộ đăng ký thoát nghèo năm 2026" in reply
    assert "Đăng ký thoát nghèo năm 2026: đã đăng ký" in reply

    officer = Chat(core, "200")
    reply = await officer.send("/duyet")
    assert "Có 1 việc chờ duyệt" in reply
    await officer.press("NK-005")
    assert "Nuôi 2 con bò sinh sản" in officer.text and "Vay vốn" in officer.text
    recognise = next(o.data for o in officer.last[-1].options if "Công nhận" in o.label)
    reply = await officer.press_data(recognise)
    assert "Đã công nhận" in reply and "Không còn việc nào chờ duyệt" in reply
    reply = await officer.press_data(recognise)  # a double tap acts once
    assert "Nút này đã cũ" in reply
    async with db.read() as conn:
        household = await hh.household_by_code(conn, world.village.id, "NK-005")
        events = await hh.household_events(conn, household.id)
    assert household.status == "average" and household.recently_exited_until is not None
    assert [e.kind for e in events][-1] == "exited"

    await head.press("Xong")  # close the household's card
    reply = await head.send("/dangky")
    assert "NK-005 Giàng A Lử: năm 2026 — đã công nhận thoát nghèo" in reply
    await head.send("/huy")
    async with db.write() as conn:  # the list is complete: it drives the monthly report
        await hh.mark_household_list(conn, world.village.id, complete=True, actor=SETUP,
                                     at=clock())
    clock.set_local("2026-12-01 09:00")  # November is over: its report counts the exit
    await head.send("/baocao 11/2026")
    assert "Số liệu gợi ý lấy từ danh sách hộ" in head.text
    assert "Theo danh sách hộ của thôn: 1" in head.text  # one household in the list
    for _ in range(3):
        await head.press("Giữ nguyên")
    reply = head.text
    assert "(4/10) Số hộ thoát nghèo" in reply and "Theo danh sách hộ của thôn: 1" in reply


async def test_officer_rejects_a_suggestion_with_a_reason(core, db, world, clock):
    household = await add(db, clock, world.village2, "PU-001", "Vàng Thị Dua",
                          status="near_poor")
    async with db.write() as conn:
        await hh.record_assessment(conn, household.id, year=2026, income_per_person=1_000_000,
                                   deprived=["water", "sanitation", "telecom"],
                                   standard_name="x", suggested_status="poor", actor=SETUP,
                                   at=clock())
    officer = Chat(core, "200")
    await officer.send("/duyet")
    reply = await officer.press("PU-001")
    assert "Đề xuất chuyển từ hộ cận nghèo sang hộ nghèo" in reply
    reply = await officer.press("Không công nhận")
    assert "Lý do" in reply
    reply = await officer.send("Thu nhập chưa xác minh")
    assert "Đã ghi «không công nhận»" in reply
    async with db.read() as conn:
        (a,) = await hh.assessments(conn, household.id)
    assert a.state == "rejected" and a.decision_reason == "Thu nhập chưa xác minh"


async def test_village_heads_cannot_review(core):
    reply = await Chat(core, "100").send("/duyet")
    assert "Chỉ cán bộ xã, tỉnh mới duyệt" in reply


async def test_a_duplicate_code_is_refused_at_its_own_question(core, db, world, clock):
    await add(db, clock, world.village, "NK-010", "Lò Văn Một")
    head = Chat(core, "100")
    await head.send("/ho")
    await head.press("Thêm hộ mới")
    reply = await head.send("nk-010")
    assert "Mã hộ NK-010 đã có trong thôn (hộ Lò Văn Một)" in reply and "(1/7) Mã hộ" in reply
    reply = await head.send("NK-011")
    assert "(2/7)" in reply
    for answer in ("Lò Văn Hai", "2", "có", "không", "không", "không"):
        await head.send(answer)
    reply = await head.press("Gửi")
    assert "Đã thêm hộ NK-011" in reply


async def test_editing_a_code_to_one_taken_is_refused_at_once(core, db, world, clock):
    await add(db, clock, world.village, "NK-013", "Lò Văn Mười")
    await add(db, clock, world.village, "NK-014", "Lò Văn Mười Một")
    head = Chat(core, "100")
    await head.send("/ho NK-014")
    reply = await head.press("Sửa thông tin")
    assert "Hiện tại: NK-014" in reply  # the current value, not "last month"
    reply = await head.send("NK-013")
    assert "Mã hộ NK-013 đã có trong thôn" in reply and "(1/6)" in reply
    reply = await head.press("Giữ nguyên")  # its own code is fine
    assert "(2/6)" in reply


async def test_a_registration_that_cannot_be_made_is_refused_before_any_question(
        core, db, world, clock):
    household = await add(db, clock, world.village, "NK-015", "Lò Văn Hùng")
    await register(db, clock, household)
    await add(db, clock, world.village, "NK-016", "Lò Văn Khá", status="average")
    head = Chat(core, "100")
    reply = await head.send("/dangky")
    reply = await head.send("NK-015")
    assert "đang có một đăng ký thoát nghèo chưa xử lý xong" in reply
    assert "(1/5)" not in reply and "Sửa mục nào" not in reply
    assert "Đăng ký thoát nghèo năm 2027: đã đăng ký" in reply  # the card says which
    assert not any("Đăng ký thoát nghèo" in o for o in head.options())
    reply = await head.send("/dangky")
    reply = await head.send("NK-016")
    assert "Chỉ hộ nghèo hoặc cận nghèo mới đăng ký" in reply and "(1/5)" not in reply


async def test_an_implausible_income_asks_to_confirm(core, db, world, clock):
    await add(db, clock, world.village, "NK-012", "Lò Văn Ba")
    head = Chat(core, "100")
    await head.send("/ho NK-012")
    await head.press("Cập nhật thu nhập")
    reply = await head.send("-5")
    assert "không được âm" in reply
    reply = await head.send("150tr")
    assert "rất cao so với chuẩn nghèo" in reply and "có chắc" in reply
    reply = await head.press("Nhập lại")
    assert "(1/13)" in reply
    reply = await head.send("1.3tr")
    assert "(2/13)" in reply


async def test_typed_figures_that_differ_from_the_list_ask_to_confirm(core, db, world, clock):
    for n in range(3):
        await add(db, clock, world.village, f"NK-2{n}", f"Hộ {n}")
    async with db.write() as conn:
        await hh.mark_household_list(conn, world.village.id, complete=True, actor=SETUP,
                                     at=clock())
    head = Chat(core, "100")
    reply = await head.send("/baocao")
    assert "Theo danh sách hộ của thôn: 3" in reply
    reply = await head.send("120")
    assert "Tổng số hộ: bạn gõ 120, nhưng danh sách hộ của thôn cho 3" in reply
    reply = await head.press("Đúng")
    assert "(2/10)" in reply


# --- /duyet never leaves a dead dialog (issue 11, item 6) ------------------------------------

async def register(db, clock, household, year=2027):
    async with db.write() as conn:
        return await hh.register_exit(conn, household.id, target_year=year, plan_kind="crops",
                                      registered_on=date(2026, 11, 1), actor=SETUP, at=clock())


async def test_review_with_nothing_waiting_opens_no_dialog(core):
    officer = Chat(core, "200")
    reply = await officer.send("/duyet")
    assert "Không có việc nào chờ duyệt" in reply
    assert "📝 Báo cáo tháng" in officer.options()  # what to do next, not a dead end
    reply = await officer.send("/lich")
    assert "làm dở" not in reply and "Lịch báo cáo" in reply
    reply = await officer.send("/huy")
    assert "Không có việc gì đang dở" in reply


async def test_review_closes_after_the_last_item(core, db, world, clock):
    await register(db, clock, await add(db, clock, world.village, "NK-030", "Lò Văn Năm"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    await officer.press("NK-030")
    reply = await officer.press("Công nhận")
    assert "Đã công nhận" in reply and "Không còn việc nào chờ duyệt" in reply
    assert "📝 Báo cáo tháng" in officer.options()
    for command in ("/baocao", "/thongke", "/lich"):
        reply = await officer.send(command)
        assert "làm dở" not in reply, command
        await officer.send("/huy")


async def test_a_command_at_the_review_list_simply_runs(core, db, world, clock):
    for n in range(2):
        await register(db, clock, await add(db, clock, world.village, f"NK-03{n}", f"Hộ {n}"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    reply = await officer.send("/lich")  # nothing half-typed at a list: no "busy"
    assert "làm dở" not in reply and "Lịch báo cáo" in reply


async def test_cancel_says_what_the_review_saved(core, db, world, clock):
    for n in range(3):
        await register(db, clock, await add(db, clock, world.village, f"NK-04{n}", f"Hộ {n}"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    await officer.press("NK-040")
    await officer.press("Công nhận")
    await officer.press("NK-041")
    await officer.press("Chưa đạt")
    reply = await officer.send("/huy")  # at the reason question of the second one
    assert "Không có gì được lưu" not in reply
    assert "đã lưu trước đó vẫn giữ nguyên:\n• Công nhận — hộ NK-040" in reply
    assert "chưa được lưu" in reply and "NK-041" not in reply
    async with db.read() as conn:
        regs = {r.household_code: r.state for r in
                await hh.registrations(conn, village_id=world.village.id)}
    assert regs == {"NK-040": "recognised", "NK-041": "registered", "NK-042": "registered"}


async def test_busy_carries_the_question_and_its_buttons(core, db, world, clock):
    await register(db, clock, await add(db, clock, world.village, "NK-050", "Hộ Năm"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    await officer.press("NK-050")
    await officer.press("Chưa đạt")
    reply = await officer.send("/baocao")
    (busy,) = officer.last  # one message: the notice, the question again, its buttons
    assert "Bạn đang làm dở một việc" in busy.text and "Lý do" in busy.text
    assert any("Bỏ qua" in o.label for o in busy.options)
    reply = await officer.press("Bỏ qua")
    assert "Đã ghi «chưa đạt»" in reply


async def test_the_household_card_is_no_trap_and_cancel_says_what_was_saved(core, db, world,
                                                                         clock):
    await add(db, clock, world.village, "NK-060", "Lò Văn Sáu")
    head = Chat(core, "100")
    await head.send("/ho NK-060")
    await head.press("Ghi nhận hỗ trợ")
    await head.press("Vay vốn")
    await head.send("5tr")
    await head.press("Bỏ qua")
    await head.press("Hôm nay")
    reply = await head.press("Gửi")
    assert "Đã ghi nhận hỗ trợ" in reply and "Hộ NK-060" in reply
    await head.press("Sửa thông tin")
    reply = await head.send("/huy")  # in the middle of the edit form
    assert "chưa được lưu" in reply and "Ghi nhận hỗ trợ — hộ NK-060" in reply
    await head.send("/ho NK-060")
    reply = await head.send("/lich")  # at the card: the command simply runs
    assert "làm dở" not in reply and "Lịch báo cáo" in reply


@pytest.mark.parametrize("how", ["press", "huy", "Hủy", "huỷ bỏ", "thoát"])
async def test_cancel_in_a_household_form_typed_or_pressed_goes_back_to_the_card(
        core, db, world, clock, how):
    # One behaviour for the word and the button: the form is dropped, the card comes back
    # (the dialog goes on); only /huy, with the slash, stops everything (handlers/router.py).
    await add(db, clock, world.village, "NK-070", "Lò Văn Bảy")
    head = Chat(core, "100")
    await head.send("/ho NK-070")
    for form in ("Ghi nhận hỗ trợ", "Sửa thông tin", "Cập nhật thu nhập", "Đăng ký thoát nghèo"):
        await head.press(form)
        assert "❌ Hủy" in head.options()
        reply = await (head.press("Hủy") if how == "press" else head.send(how))
        assert "Đã hủy, phần vừa nhập không được lưu" in reply, (form, reply)
        assert "🏠 Hộ NK-070 — Lò Văn Bảy" in reply and "Xong" in head.options()
    async with db.read() as conn:
        household = await hh.household_by_code(conn, world.village.id, "NK-070")
        assert await hh.support_of(conn, household.id) == []
        assert await hh.registrations_of(conn, household.id) == []
    await head.press("Ghi nhận hỗ trợ")
    reply = await head.send("/huy")
    assert "Đã hủy" in reply and "🏠" not in reply and "📝 Báo cáo tháng" in head.options()
    reply = await head.send("NK-070")  # the dialog is over: not read as a search
    assert "🏠" not in reply


@pytest.mark.parametrize("how", ["press", "huy"])
async def test_cancel_in_the_new_household_form_goes_back_to_the_search(core, how):
    head = Chat(core, "100")
    await head.send("/ho")
    await head.press("Thêm hộ mới")
    await head.send("NK-071")
    reply = await (head.press("Hủy") if how == "press" else head.send(how))
    assert "Đã hủy, phần vừa nhập không được lưu" in reply and "Tìm hộ" in reply
    assert "➕ Thêm hộ mới" in head.options()
    reply = await head.send("NK-071")
    assert "Không tìm thấy hộ nào khớp «NK-071»" in reply  # nothing was saved


@pytest.mark.parametrize("how", ["press", "huy"])
async def test_cancel_at_a_decision_reason_goes_back_to_the_list(core, db, world, clock, how):
    for code in ("NK-072", "NK-073"):
        await register(db, clock, await add(db, clock, world.village, code, "Hộ Lý Do"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    await officer.press("NK-072")
    await officer.press("Chưa đạt")
    reply = await (officer.press("Hủy") if how == "press" else officer.send(how))
    assert "chưa ghi quyết định" in reply and "Có 2 việc chờ duyệt" in reply
    async with db.read() as conn:
        assert {r.state for r in await hh.registrations(conn, within=world.commune)} == {
            "registered"}


# --- a newer assessment supersedes older pending ones (issue 11, item 5) ---------------------

async def assess_in_chat(head, code, income, lacking):
    """Record an assessment in chat: ``lacking`` "có" answers first, then "không"."""
    await head.send(f"/ho {code}")
    await head.press("Cập nhật thu nhập")
    await head.send(income)
    for n in range(12):
        await head.send("có" if n < lacking else "không")
    return await head.press("Gửi")


async def test_a_stale_proposal_does_not_come_back(core, db, world, clock):
    await add(db, clock, world.village, "NK-070", "Lò Thị Bảy", status="near_poor")
    head = Chat(core, "100")
    reply = await assess_in_chat(head, "NK-070", "1tr2", 4)
    assert "sang hộ nghèo" in reply
    await head.press("Xong")
    clock.advance(minutes=3)
    reply = await assess_in_chat(head, "NK-070", "1tr8", 0)
    assert "sang hộ có mức sống trung bình" in reply
    officer = Chat(core, "200")
    reply = await officer.send("/duyet")
    assert "Có 1 việc chờ duyệt" in reply and "hộ nghèo" not in officer.options()[0]
    reply = await officer.press("NK-070")
    assert "1.800.000đ" in reply and "Người ghi: Lò Văn Páo, 05/11/2026 09:03" in reply
    reply = await officer.press("Công nhận")
    assert "Không còn việc nào chờ duyệt" in reply
    reply = await officer.send("/duyet")
    assert "Không có việc nào chờ duyệt" in reply
    async with db.read() as conn:
        household = await hh.household_by_code(conn, world.village.id, "NK-070")
        states = [(a.state, a.decided_by) for a in await hh.assessments(conn, household.id)]
    assert household.status == "average"
    assert states == [("superseded", world.head_id), ("recognised", world.officer_id)]


# --- deprivations read as what is lacking (issue 11, item 10) --------------------------------

async def test_deprivations_are_shown_as_what_is_lacking(core, db, world, clock):
    await add(db, clock, world.village, "NK-080", "Lò Văn Tám", status="near_poor")
    head = Chat(core, "100")
    await head.send("/ho NK-080")
    await head.press("Cập nhật thu nhập")
    await head.send("1tr2")
    answers = ["không"] * 12
    answers[3] = answers[9] = answers[10] = "có"  # health insurance, sanitation, telecom
    for answer in answers:
        reply = await head.send(answer)
    assert "Thiếu 3/12 chỉ số: bảo hiểm y tế, nhà tiêu hợp vệ sinh, sử dụng dịch vụ viễn " \
           "thông" in reply
    assert "Bảo hiểm y tế: Có" not in reply and "Việc làm: Không" not in reply
    assert "1. Thu nhập bình quân: 1.200.000đ" in reply
    reply = await head.send("sửa 4")  # a single indicator can still be fixed by its number
    assert "(4/13)" in reply and "Giữ nguyên (Không)" in head.options()
    await head.send("có")
    reply = await head.press("Gửi")
    assert "Thiếu 4/12 chỉ số: dinh dưỡng, bảo hiểm y tế" in reply  # after saving
    assert "Thiếu 4/12 chỉ số" in reply.split("🏠")[1]  # and on the card
    officer = Chat(core, "200")
    await officer.send("/duyet")
    reply = await officer.press("NK-080")
    assert "Thiếu 4/12 chỉ số: dinh dưỡng, bảo hiểm y tế" in reply
    await head.press("Cập nhật thu nhập")
    reply = await head.send("1tr2")
    assert "(2/13)" in reply and "Lần đánh giá trước: Không" in reply  # not "last month"
    await head.send("có")
    reply = await head.send("có")
    assert "(4/13)" in reply and "Lần đánh giá trước: Có" in reply


# --- no list is cut without saying so --------------------------------------------------------

async def test_search_results_are_paged_not_cut(core, db, world, clock):
    for n in range(23):
        await add(db, clock, world.village, f"NK-2{n:02d}", f"Lò Văn {n}")
    head = Chat(core, "100")
    reply = await head.send("/ho lo van")
    assert "Có 23 hộ khớp «lo van»" in reply and "hộ 1–10 trong 23" in reply
    assert "➡️ Xem tiếp (13 hộ nữa)" in head.options()
    reply = await head.press("Xem tiếp")
    assert "hộ 11–20 trong 23" in reply and "➡️ Xem tiếp (3 hộ nữa)" in head.options()
    reply = await head.press("Xem tiếp")
    assert "hộ 21–23 trong 23" in reply and "⬅️ Về đầu danh sách" in head.options()
    reply = await head.press(head.options()[0])
    assert "🏠 Hộ" in reply


async def test_the_review_queue_is_paged(core, db, world, clock):
    for n in range(12):
        await register(db, clock, await add(db, clock, world.village, f"NK-3{n:02d}", f"Hộ {n}"))
    officer = Chat(core, "200")
    reply = await officer.send("/duyet")
    assert "Có 12 việc chờ duyệt" in reply and "việc 1–10 trong 12" in reply
    reply = await officer.press("Xem tiếp (2 việc nữa)")
    assert "việc 11–12 trong 12" in reply and any("NK-311" in o for o in officer.options())


async def suggest(db, clock, household, after="average"):
    async with db.write() as conn:
        return await hh.record_assessment(
            conn, household.id, year=2026, income_per_person=2_500_000, deprived=[],
            standard_name="2022-2026", suggested_status=after, actor=SETUP, at=clock())


async def test_review_items_name_their_village_and_each_kind_is_one_tap_away(core, db, world,
                                                                             clock):
    for n in range(11):
        await register(db, clock, await add(db, clock, world.village, f"NK-6{n:02d}", f"Hộ {n}"))
    await suggest(db, clock, await add(db, clock, world.village2, "PU-601", "Vàng A Dế"))
    officer = Chat(core, "200")
    reply = await officer.send("/duyet")
    assert "Có 12 việc chờ duyệt: 11 đăng ký thoát nghèo, 1 đề xuất đổi phân loại hộ" in reply
    assert "✋ NK-600 Hộ 0 (Bản Nà Khan) — thoát nghèo 2027" in officer.options()
    reply = await officer.press("Chỉ xem đề xuất đổi phân loại hộ (1)")
    assert "1 đề xuất đổi phân loại hộ (trong 12 việc chờ duyệt)" in reply
    assert "📊 PU-601 Vàng A Dế (Bản Pa Ủ) → hộ có mức sống trung bình" in officer.options()
    assert "✋ Chỉ xem đăng ký thoát nghèo (11)" in officer.options()
    reply = await officer.press("PU-601")
    assert "Hộ PU-601 — Vàng A Dế (Bản Pa Ủ)" in reply
    reply = await officer.press("Quay lại danh sách")  # back to the list it came from
    assert "1 đề xuất đổi phân loại hộ" in reply and "NK-600" not in "".join(officer.options())
    reply = await officer.press("Xem tất cả")
    assert "Có 12 việc chờ duyệt" in reply and "việc 1–10 trong 12" in reply
    province = Chat(core, "300")  # the province's officer: the commune too
    await province.send("/duyet")
    assert "✋ NK-600 Hộ 0 (Bản Nà Khan, Xã Mường Tè) — thoát nghèo 2027" in province.options()


async def test_registrations_are_listed_in_pages(core, db, world, clock):
    for n in range(35):
        await register(db, clock, await add(db, clock, world.village, f"NK-4{n:02d}", f"Hộ {n}"))
    head = Chat(core, "100")
    reply = await head.send("/dangky")
    assert "(35 hộ)" in reply and "hộ 1–30 trong 35" in reply
    assert "… và 5 hộ khác" in reply and reply.count("• NK-4") == 30
    reply = await head.press("Xem tiếp danh sách đăng ký")
    assert "hộ 31–35 trong 35" in reply and reply.count("• NK-4") == 5
    assert not any("Xem tiếp" in o for o in head.options())
    reply = await head.send("NK-434")
    assert "🏠 Hộ NK-434" in reply and "đã đăng ký" in reply  # already registered: the card


async def test_an_officer_s_registrations_are_listed_under_their_villages(core, db, world,
                                                                         clock):
    for n in range(29):
        await register(db, clock, await add(db, clock, world.village, f"NK-7{n:02d}", f"Hộ {n}"))
    for n in range(3):
        await register(db, clock, await add(db, clock, world.village2, f"NK-7{n:02d}",
                                            f"Hộ Pa {n}"))  # the same codes, another village
    officer = Chat(core, "200")
    reply = await officer.send("/dangky")
    lines = reply.splitlines()
    assert lines[2] == "Bản Nà Khan:" and lines[3].startswith("• NK-700 Hộ 0")
    assert "Bản Pa Ủ:" in lines and lines[lines.index("Bản Pa Ủ:") + 1].startswith(
        "• NK-700 Hộ Pa 0")
    reply = await officer.press("Xem tiếp danh sách đăng ký")
    assert reply.splitlines()[1] == "Bản Pa Ủ:"  # a page starts with its village's name
    await officer.send("/huy")
    province = Chat(core, "300")
    reply = await province.send("/dangky")
    assert "Bản Nà Khan, Xã Mường Tè:" in reply.splitlines()
    head = Chat(core, "100")
    reply = await head.send("/dangky")
    assert "Bản Nà Khan:" not in reply  # a village head's own village goes without saying


async def test_a_province_officer_s_search_names_village_and_commune(core, db, world, clock):
    await add(db, clock, world.village, "NK-801", "Lò A Dũng")
    await add(db, clock, world.far_village, "NC-801", "Lò A Dũng")
    province = Chat(core, "300")
    await province.send("/ho lo a dung")
    assert province.options()[:2] == ["NK-801 · Lò A Dũng (Bản Nà Khan, Xã Mường Tè)",
                                      "NC-801 · Lò A Dũng (Bản Nậm Củm, Xã Bum Nưa)"]


async def test_an_officer_picks_or_types_the_village_of_a_new_household(core, db, world,
                                                                       clock):
    await add(db, clock, world.village2, "PU-010", "Vàng A Dế")
    await add(db, clock, world.village, "NK-510", "Vàng A Dơ")
    officer = Chat(core, "200")
    reply = await officer.send("/ho vang a")
    assert "NK-510 · Vàng A Dơ (Bản Nà Khan)" in officer.options()  # which village
    await officer.send("/huy")
    await officer.send("/ho")
    reply = await officer.press("Thêm hộ mới")
    assert "Thêm hộ cho thôn nào" in reply and "Bản Pa Ủ" in officer.options()
    reply = await officer.send("pa u")
    assert "Thêm hộ mới vào Bản Pa Ủ" in reply and "(1/7)" in reply
    reply = await officer.send("PU-010")
    assert "Mã hộ PU-010 đã có trong thôn (hộ Vàng A Dế)" in reply


async def test_a_long_reason_is_refused_not_cut(core, db, world, clock):
    for code in ("NK-520", "NK-521"):
        await register(db, clock, await add(db, clock, world.village, code, "Hộ Dài"))
    officer = Chat(core, "200")
    await officer.send("/duyet")
    await officer.press("NK-520")
    await officer.press("Chưa đạt")
    reply = await officer.send("x" * 600)
    assert "quá 500 ký tự" in reply and "Lý do" in reply
    reply = await officer.send("Thiếu vốn")
    assert "Đã ghi «chưa đạt»" in reply
    assert "Xong" in officer.options() and "❌ Hủy" not in officer.options()  # no undoing

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
    assert "Chưa có hộ nào đăng ký" in reply and "Tìm hộ" in reply
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
    assert "Đã công nhận" in reply and "Không có việc nào chờ duyệt" in reply
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
    await head.send("/baocao 11/2026")  # this month: the exit is counted from the list
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


async def test_duplicate_code_in_chat_keeps_the_form(core, db, world, clock):
    await add(db, clock, world.village, "NK-010", "Lò Văn Một")
    head = Chat(core, "100")
    await head.send("/ho")
    await head.press("Thêm hộ mới")
    for answer in ("nk-010", "Lò Văn Hai", "2", "có", "không", "không", "không"):
        await head.send(answer)
    reply = await head.press("Gửi")
    assert "Mã hộ này đã có trong thôn" in reply and "Sửa mục nào" in reply
    await head.send("1")
    await head.send("NK-011")
    reply = await head.press("Gửi")
    assert "Đã thêm hộ NK-011" in reply


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

"""The monthly report, as a village head chats it through the core."""

from __future__ import annotations

import pytest

from storage.reports import MONTHLY_FORM, current_report, report_versions
from tests.conftest import Chat

pytestmark = pytest.mark.usefixtures("world")


async def saved(db, area, period="2026-10"):
    async with db.read() as conn:
        return await current_report(conn, area.id, MONTHLY_FORM, period)


async def test_first_report_guided(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao")
    assert "tháng 10/2026" in reply and "Bản Nà Khan" in reply
    assert "(1/10) Tổng số hộ" in reply
    assert "120" not in reply
    await head.send("120")
    assert "(2/10)" in head.text
    await head.send("15")
    await head.send("8")
    assert "(4/10)" in head.text
    await head.press("0 (không có)")
    await head.send("1")
    await head.send("0")
    await head.send("3")
    await head.send("10")
    await head.send("5tr")
    assert "(10/10) Ghi chú" in head.text
    reply = await head.press("Bỏ qua")
    assert "1. Tổng số hộ: 120" in reply
    assert "9. Vận động hỗ trợ trong tháng: 5.000.000đ" in reply
    assert await saved(db, world.village) is None  # nothing saved before "Gửi"
    reply = await head.press("Gửi")
    assert "Đã lưu báo cáo tháng 10/2026 của Bản Nà Khan (phiên bản 1)" in reply
    report = await saved(db, world.village)
    assert report.data["total"] == 120 and report.data["support_vnd"] == 5_000_000
    assert report.data["newly_poor"] == 1 and report.data["note"] == ""


async def test_one_line_report_then_keep_defaults_next_month(core, db, world, clock):
    head = Chat(core, "100")
    reply = await head.send("/baocao 120 15 8 2 1 0 3 10 5tr Mô hình nuôi gà tốt")
    assert "1. Tổng số hộ: 120" in reply and "10. Ghi chú: Mô hình nuôi gà tốt" in reply
    await head.press("Gửi")
    clock.set_local("2026-12-03 08:00")
    reply = await head.send("bao cao")
    assert "tháng 11/2026" in reply and "Tháng trước: 120" in reply
    await head.press("Giữ nguyên")  # total
    reply = await head.press("Giữ nguyên")  # poor 15
    assert "(3/10)" in reply
    await head.send("giu nguyen")  # near-poor typed without diacritics
    for _ in range(3):
        await head.press("0 (không có)")
    for _ in range(2):
        await head.press("Giữ nguyên")
    await head.press("0 (không có)")
    reply = await head.press("Bỏ qua")
    assert "2. Hộ nghèo: 15" in reply and "3. Hộ cận nghèo: 8" in reply
    await head.press("Gửi")
    report = await saved(db, world.village, "2026-11")
    assert report.data["near_poor"] == 8 and report.version == 1


async def test_blocking_check_keeps_the_question(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("20")
    await head.send("15")
    reply = await head.send("8")
    assert "không thể nhiều hơn tổng số hộ (20)" in reply
    assert "(3/10)" in reply
    reply = await head.send("nhiều lắm")
    assert "không phải là một số" in reply and "(3/10)" in reply
    reply = await head.send("-3")
    assert "không được âm" in reply and "(3/10)" in reply
    reply = await head.send("5")
    assert "(4/10)" in reply


async def test_fix_field_from_summary_and_new_version(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.send("sửa 1")
    assert "(1/10) Tổng số hộ" in head.text
    reply = await head.send("125")
    assert "1. Tổng số hộ: 125" in reply
    await head.press("Gửi")
    await head.send("/baocao 126 15 8 2 1 0 3 10 5tr")
    assert "phiên bản 1" in head.text  # the month already has a report
    reply = await head.press("Gửi")
    assert "phiên bản 2" in reply
    async with db.read() as conn:
        versions = await report_versions(conn, world.village.id, MONTHLY_FORM, "2026-10")
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].data["total"] == 125 and versions[0].data["total"] == 126


async def test_warning_asks_are_you_sure(core, world, clock):
    head = Chat(core, "100")
    clock.set_local("2026-10-04 10:00")
    await head.send("/baocao 120 15 8 0 0 0 3 10 0")
    assert "tháng 9/2026" in head.text
    await head.press("Gửi")
    clock.set_local("2026-11-05 10:00")
    await head.send("/baocao")
    await head.send("120")
    reply = await head.send("40")  # 15 -> 40
    assert "Số hộ nghèo đổi từ 15 thành 40" in reply and "có chắc" in reply
    reply = await head.press("Nhập lại")
    assert "(2/10)" in reply
    await head.send("40")
    reply = await head.press("Đúng")
    assert "(3/10)" in reply


async def test_cancel_at_any_step_saves_nothing(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    reply = await head.send("Hủy")
    assert "Đã hủy" in reply
    reply = await head.send("/huy")
    assert "Không có việc gì" in reply
    assert await saved(db, world.village) is None


async def test_stale_and_forged_buttons(core, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    await head.send("15")
    old_keep = head.last[-1].options[0].data
    await head.send("8")
    reply = await head.press_data(old_keep)
    assert "Nút này đã cũ" in reply and "(4/10)" in reply
    reply = await head.press_data("zz.area:999")
    assert "Nút này đã cũ" in reply and "(4/10)" in reply


async def test_restart_mid_dialog_continues(db, config, clock, world, tmp_path):
    from handlers.core import Core
    from storage.db import Database

    head = Chat(Core(db, config, clock), "100")
    await head.send("/baocao")
    await head.send("120")
    await db.close()
    db2 = await Database.open(db.path)
    try:
        head.core = Core(db2, config, clock)
        reply = await head.send("15")
        assert "(3/10)" in reply
    finally:
        await db2.close()


async def test_redelivered_message_changes_nothing(core, world):
    head = Chat(core, "100")
    await head.send("/baocao", message_id="u1")
    reply = await head.send("120", message_id="u2")
    assert "(2/10)" in reply
    reply = await head.send("120", message_id="u2")
    assert reply == ""
    reply = await head.send("15", message_id="u3")
    assert "(3/10)" in reply


async def test_village_head_cannot_report_for_another_village(core, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao Bản Nậm Củm")
    assert "chỉ được báo cáo cho thôn của mình: Bản Nà Khan" in reply


async def test_lock_day_needs_an_officer(core, db, world, clock):
    clock.set_local("2026-11-11 08:00")
    head = Chat(core, "100")
    reply = await head.send("/baocao 10/2026")
    assert "đã khóa sổ" in reply and "10/11/2026" in reply
    officer = Chat(core, "200")
    reply = await officer.send("/baocao na khan 10/2026")
    assert "(1/10) Tổng số hộ" in reply and "Bản Nà Khan" in reply
    await officer.send("/huy")
    reply = await officer.send("/baocao 10/2026 Nà Khan")
    assert "(1/10) Tổng số hộ" in reply and "tháng 10/2026" in reply


async def test_stranger_sees_only_how_to_enrol(core, world):
    stranger = Chat(core, "999")
    for text in ("/baocao", "xin chào", "/help", "/toi"):
        reply = await stranger.send(text)
        assert "chưa được đăng ký" in reply and "mã mời" in reply
        assert "Nà Khan" not in reply
    reply = await stranger.press_data("cmd:report")
    assert "chưa được đăng ký" in reply


# ---- item 2: money written with a space in the one-line form ------------------------------

@pytest.mark.parametrize("money,shown", [
    ("2 triệu", "2.000.000đ"),
    ("1 500 000", "1.500.000đ"),
    ("5 tr", "5.000.000đ"),
    ("500 nghìn", "500.000đ"),
    ("2 triệu đồng", "2.000.000đ"),
])
async def test_one_line_reads_money_as_the_guided_form_does(core, db, world, money, shown):
    head = Chat(core, "100")
    reply = await head.send(f"/baocao 134 20 13 0 0 0 16 21 {money}")
    assert f"9. Vận động hỗ trợ trong tháng: {shown}" in reply
    assert "10. Ghi chú: —" in reply
    await head.press("Gửi")
    report = await saved(db, world.village)
    assert report.data["support_vnd"] == int(shown[:-1].replace(".", ""))
    assert report.data["note"] == ""


async def test_one_line_money_with_a_space_then_a_note(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao 134 20 13 0 0 0 16 21 1 500 000 Hỗ trợ 3 con bò")
    assert "9. Vận động hỗ trợ trong tháng: 1.500.000đ" in reply
    assert "10. Ghi chú: Hỗ trợ 3 con bò" in reply


async def test_an_implausible_amount_asks_are_you_sure_in_one_line(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao 134 20 13 0 0 0 16 21 2")
    assert "9. Vận động hỗ trợ trong tháng: 2đ" in reply  # the figures are echoed
    assert "⚠️ Lưu ý: Vận động hỗ trợ trong tháng: 2đ là số tiền rất nhỏ" in reply
    assert "hãy gõ 2k hoặc 2tr" in reply and "Bạn có chắc" in reply
    await head.send("sửa 9")
    reply = await head.send("2tr")
    assert "9. Vận động hỗ trợ trong tháng: 2.000.000đ" in reply and "rất nhỏ" not in reply
    assert "Bạn có chắc" not in reply
    await head.press("Gửi")
    assert (await saved(db, world.village)).data["support_vnd"] == 2_000_000


async def test_an_implausible_amount_asks_are_you_sure_in_the_guided_form(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    for answer in ("134", "20", "13", "0", "0", "0", "16", "21"):
        await head.send(answer)
    reply = await head.send("500")
    assert "500đ" in reply and "rất nhỏ" in reply and "có chắc" in reply
    reply = await head.press("Đúng")
    assert "(10/10) Ghi chú" in reply
    reply = await head.press("Bỏ qua")
    assert "9. Vận động hỗ trợ trong tháng: 500đ" in reply and "rất nhỏ" in reply


async def last_month(head, clock, figures="120 15 8 0 0 0 3 10 0"):
    """A report for September 2026 sent on 4 October, then the clock on 5 November."""
    clock.set_local("2026-10-04 10:00")
    await head.send(f"/baocao {figures}")
    assert "tháng 9/2026" in head.text
    await head.press("Gửi")
    clock.set_local("2026-11-05 10:00")


async def answer_until_balance(head):
    await head.send("/baocao")
    for answer in ("120", "16", "8", "0", "0"):
        await head.send(answer)
    reply = await head.send("0")  # fallen back: the balance of the poor is checked now
    assert "Số hộ nghèo 16 chưa khớp" in reply and "= 15" in reply
    return reply


# ---- item 7: a correction at a warning goes to the field the warning is about -----------

async def test_a_number_typed_at_the_balance_warning_corrects_the_poor(core, db, world, clock):
    head = Chat(core, "100")
    await last_month(head, clock)
    await answer_until_balance(head)
    reply = await head.send("15")
    assert "Đã sửa Hộ nghèo: 15." in reply
    assert "(7/10)" in reply  # on with the form: the poor are now 15, the balance holds
    for answer in ("3", "10", "0"):
        await head.send(answer)
    reply = await head.press("Bỏ qua")
    assert "2. Hộ nghèo: 15" in reply and "6. Tái nghèo trong tháng: 0" in reply
    assert "chưa khớp" not in reply


async def test_redo_at_the_balance_warning_returns_to_the_poor(core, world, clock):
    head = Chat(core, "100")
    await last_month(head, clock)
    await answer_until_balance(head)
    assert "✏️ Nhập lại: Tái nghèo trong tháng" in head.options()  # or any other field of it
    reply = await head.press("Nhập lại")
    assert "(2/10) Số hộ nghèo" in reply
    reply = await head.send("15")
    assert "(7/10)" in reply


async def test_a_warning_on_several_fields_asks_where_a_number_goes(core, db, world, clock):
    head = Chat(core, "100")
    await head.send("/baocao")
    for answer in ("120", "2", "8", "0", "2"):
        await head.send(answer)
    reply = await head.send("1")  # newly poor 2 + fallen back 1 > poor 2
    assert "nhiều hơn số hộ nghèo hiện nay (2)" in reply
    reply = await head.send("3")
    assert "mục nào" in reply
    reply = await head.press("Hộ nghèo")
    assert "(7/10)" in reply
    for answer in ("1", "1", "0"):
        await head.send(answer)
    reply = await head.press("Bỏ qua")
    assert "2. Hộ nghèo: 3" in reply and "6. Tái nghèo trong tháng: 1" in reply


async def test_two_warnings_on_one_answer_are_both_asked(core, world, clock):
    head = Chat(core, "100")
    await last_month(head, clock)
    await head.send("/baocao")
    await head.send("120")
    reply = await head.send("2")  # 15 -> 2: a change of the poor
    assert "Số hộ nghèo đổi từ 15 thành 2" in reply
    await head.press("Đúng")
    for answer in ("8", "0", "2"):
        await head.send(answer)
    reply = await head.send("1")  # newly poor 2 + fallen back 1 > poor 2, and no balance
    assert "nhiều hơn số hộ nghèo hiện nay (2)" in reply
    reply = await head.press("Đúng")
    assert "Số hộ nghèo 2 chưa khớp" in reply and "có chắc" in reply
    reply = await head.press("Đúng")
    assert "(7/10)" in reply


# ---- item 8: a default the checks refuse is never offered ---------------------------------

async def test_a_default_that_the_checks_refuse_is_not_offered(core, world, clock):
    head = Chat(core, "100")
    await last_month(head, clock, "134 22 13 0 0 0 22 21 0")
    await head.send("/baocao")
    for answer in ("134", "16", "13", "6", "0"):
        await head.send(answer)
    reply = await head.send("0")
    assert "(7/10) Trong số hộ nghèo" in reply
    assert not any("22" in label for label in head.options())
    assert "Không thể giữ nguyên 22" in reply and "nhiều hơn số hộ nghèo (16)" in reply
    reply = await head.send("16")
    assert "(8/10)" in reply


# ---- item 15: words --------------------------------------------------------------------

async def test_a_complete_one_line_report_is_not_told_to_fill_every_field(core, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    assert "Gửi báo cáo này?" in reply
    assert "vui lòng nhập đủ từng mục" not in reply


async def test_the_fix_menu_numbers_only_fields(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.press("Sửa")
    assert head.options()[:2] == ["1. Tổng số hộ", "2. Hộ nghèo"]
    assert head.options()[10:] == ["↩️ Quay lại"]  # item 11; no "Hủy" among the numbers
    reply = await head.send("sửa 12")
    assert "từ 1 đến 10, hoặc 11 để quay lại" in reply and "Sửa mục nào" in reply
    reply = await head.send("sửa 11")  # item 11 of the menu, typed like a field
    assert "Gửi báo cáo này?" in reply
    await head.press("Sửa")
    reply = await head.send("11")
    assert "Gửi báo cáo này?" in reply
    await head.press("Gửi")
    assert await saved(db, world.village) is not None


async def test_fixing_a_field_whose_default_is_zero_offers_its_value(core, world):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    reply = await head.send("sửa 9")
    assert "(9/10)" in reply and "Đang ghi: 5.000.000đ" in reply
    assert "Giữ nguyên (5.000.000đ)" in head.options() and "0 (không có)" in head.options()
    reply = await head.press("Giữ nguyên")
    assert "9. Vận động hỗ trợ trong tháng: 5.000.000đ" in reply


async def test_typed_field_name_in_the_fix_menu(core, world):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.press("Sửa")
    reply = await head.send("ho can ngheo")
    assert "(3/10) Số hộ cận nghèo" in reply


# ---- item 11: words or decimals where the figures belong ----------------------------------

async def test_figures_in_words_get_an_answer_about_the_figures(core, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao muoi hai")
    assert "chỉ được báo cáo cho thôn" not in reply
    assert "Mục 1 (Tổng số hộ)" in reply and "không phải là một số" in reply
    assert "(1/10) Tổng số hộ" in reply


async def test_a_decimal_count_gets_an_answer_about_the_figures(core, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao 134,5 20 13 0 0 0 16 21 2tr")
    assert "chỉ được báo cáo cho thôn" not in reply
    assert "Mục 1 (Tổng số hộ)" in reply and "số nguyên" in reply
    assert "(1/10) Tổng số hộ" in reply


async def test_a_village_name_is_still_a_village_name(core, world):
    officer = Chat(core, "200")
    reply = await officer.send("/baocao pa u")
    assert "Bản Pa Ủ" in reply and "(1/10)" in reply
    head = Chat(core, "100")
    reply = await head.send("/baocao Bản Nậm Củm")
    assert "chỉ được báo cáo cho thôn của mình" in reply


# ---- item 13: a list of villages is never cut without a word -------------------------------

async def test_a_long_list_of_villages_says_how_many_more(core, db, world, clock):
    from storage import areas
    from tests.conftest import SETUP

    async with db.write() as conn:
        for n in range(35):
            await areas.add_area(conn, parent=world.commune, level="village",
                                 name=f"Thôn Mới {n + 1}", actor=SETUP, at=clock())
    officer = Chat(core, "200")
    reply = await officer.send("/baocao")
    assert len(officer.options()) == 31  # 30 villages and "Hủy"
    assert "… và 7 thôn khác: gõ tên thôn để tìm." in reply
    reply = await officer.send("thon moi")  # 35 match: again 30 and the count of the rest
    assert "… và 5 thôn khác" in reply
    reply = await officer.send("Thôn Mới 33")
    assert "Thôn Mới 33" in reply and "(1/10) Tổng số hộ" in reply


async def test_a_new_version_offers_what_was_filed_this_month(core, world):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.press("Gửi")
    reply = await head.send("/baocao")
    assert "phiên bản 1" in reply and "Đã báo cáo tháng này: 120" in reply
    assert "Tháng trước" not in reply
    for _ in range(3):
        reply = await head.press("Giữ nguyên")
    assert "(4/10)" in reply and "Giữ nguyên (2)" in head.options()  # exited: 2, not only 0

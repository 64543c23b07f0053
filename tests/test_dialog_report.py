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

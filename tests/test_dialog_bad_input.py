"""Bad input: every wrong answer gets one clear sentence and the dialog stays put."""

from __future__ import annotations

import pytest

from common.messages import Inbound
from storage.reports import MONTHLY_FORM, current_report
from tests.conftest import Chat

pytestmark = pytest.mark.usefixtures("world")


@pytest.mark.parametrize("answer,expected", [
    ("mười hai", "không phải là một số"),
    ("🙂", "không phải là một số"),
    ("12.5", "số nguyên"),
    ("-1", "không được âm"),
    ("999999", "phải từ 0 đến 20.000"),
    ("", "chưa gõ số"),
    ("1" * 60, "quá dài"),
])
async def test_wrong_numbers_keep_the_question(core, answer, expected):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    reply = await head.send(answer)
    assert expected in reply
    assert reply.strip().endswith("Số hộ nghèo hiện nay?") or "(2/10)" in reply


async def test_zero_total_is_refused(core):
    head = Chat(core, "100")
    await head.send("/baocao")
    assert "phải từ 1 đến 20.000" in await head.send("0")


async def test_very_long_note_and_very_long_message(core):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.send("sửa 10")
    reply = await head.send("x" * 1500)
    assert "dài quá 1000 ký tự" in reply and "(10/10)" in reply
    reply = await head.send("y" * 5000)  # past what the edge reads (common.messages)
    assert "dài quá 4.096 ký tự nên tôi chưa đọc" in reply and "(10/10)" in reply
    reply = await head.send("Mô hình nuôi lợn đen 🐷 hiệu quả")
    assert "10. Ghi chú: Mô hình nuôi lợn đen 🐷 hiệu quả" in reply


async def test_one_line_with_a_bad_figure_continues_at_that_field(core):
    head = Chat(core, "100")
    reply = await head.send("/baocao 120 15 tám 2")
    assert "Mục 3 (Hộ cận nghèo)" in reply and "(3/10)" in reply
    reply = await head.send("8")
    assert "(4/10)" in reply


async def test_one_line_with_impossible_totals_asks_what_to_fix(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao 20 15 8 2 1 0 3 10 5tr")
    assert "không thể nhiều hơn tổng số hộ" in reply and "Sửa mục nào" in reply
    assert "Gửi" not in " ".join(head.options())
    reply = await head.send("1")
    assert "(1/10) Tổng số hộ" in reply
    reply = await head.send("10")  # still too small: refused at once
    assert "không thể nhiều hơn tổng số hộ (10)" in reply
    reply = await head.send("30")
    assert "1. Tổng số hộ: 30" in reply
    await head.press("Gửi")
    async with db.read() as conn:
        report = await current_report(conn, world.village.id, MONTHLY_FORM, "2026-10")
    assert report.data["total"] == 30


async def test_too_many_figures_in_one_line(core):
    head = Chat(core, "100")
    reply = await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    assert "Gửi báo cáo này?" in reply
    reply = await head.send("/baocao")
    assert "đang làm dở" in reply and "Gửi báo cáo này?" in reply


async def test_images_and_stickers_get_a_polite_answer(core):
    head = Chat(core, "100")
    await head.send("/baocao")
    reply = await head._deliver(Inbound("test", "100", "100", "img1", kind="image"))
    assert "chỉ đọc được tin nhắn chữ" in reply and "(1/10)" in reply


async def test_future_month_and_changing_the_month(core, clock):
    head = Chat(core, "100")
    reply = await head.send("/baocao 12/2026")
    assert "chưa tới" in reply and "từ ngày 01/01/2027" in reply
    await head.send("/baocao")
    assert "tháng 10/2026" in head.text
    reply = await head.press("Đổi tháng")
    assert "tháng nào" in reply
    assert "Tháng 11/2026" not in head.options()  # not over yet (5 November)
    reply = await head.send("13/2026")
    assert "tháng/năm" in reply
    reply = await head.press("Tháng 10/2026")
    assert "Báo cáo tháng 10/2026" in reply and "(1/10)" in reply


async def test_a_month_not_yet_over_is_filed_from_the_first_of_the_next(core, clock, world):
    """A month's report is the village at the end of the month (and what happened in it): a
    village head files it once the month is over. Officers keep their rights."""
    clock.set_local("2026-12-03 09:00")
    head = Chat(core, "100")
    for typed in ("/baocao 12/2026", "/baocao thang nay", "/baocao 12/2026 120 15 8 2 1 0 3 10"):
        reply = await head.send(typed)
        assert reply.startswith("Tháng 12/2026 chưa hết") and "từ ngày 01/01/2027" in reply, \
            typed
        assert "(1/10)" not in reply and "Gửi báo cáo này?" not in reply, typed
    clock.set_local("2026-12-15 09:00")  # past the 10th /baocao proposes December: not yet
    assert (await head.send("/baocao")).startswith("Tháng 12/2026 chưa hết")
    clock.set_local("2027-01-01 07:00")
    assert "Báo cáo tháng 12/2026 — Bản Nà Khan" in await head.send("/baocao 12/2026")
    await head.send("/huy")
    clock.set_local("2026-12-03 09:00")
    officer = Chat(core, "200")
    reply = await officer.send("/baocao Nà Khan 12/2026")  # a paper report handed in early
    assert "Báo cáo tháng 12/2026 — Bản Nà Khan" in reply and "(1/10)" in reply
    await officer.send("/huy")
    reply = await officer.send("/baocao Nà Khan 9/2026")  # and after the lock day
    assert "Báo cáo tháng 9/2026 — Bản Nà Khan" in reply
    await officer.send("/huy")
    assert "chưa tới" in await officer.send("/baocao Nà Khan 1/2027")


async def test_summary_expects_a_choice(core):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    reply = await head.send("có lẽ")
    assert "Vui lòng gõ «gửi» để gửi, «sửa 3» để sửa mục 3, hoặc «hủy»" in reply
    assert "Gửi báo cáo này?" in reply
    reply = await head.send("3")  # field 3, not the third button (Hủy)
    assert "(3/10) Số hộ cận nghèo" in reply
    await head.press("Giữ nguyên")
    reply = await head.send("15")  # no field 15
    assert "từ 1 đến 10" in reply and "Sửa mục nào" in reply
    reply = await head.send("15")
    assert "từ 1 đến 10" in reply


@pytest.mark.parametrize("text", ["²", "sửa ²", "١٢", "sửa ١٢"])
async def test_digits_of_other_scripts_are_answered_not_a_crash(core, text):
    head = Chat(core, "100")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    reply = await head.send(text)
    assert "sự cố" not in reply and "Gửi báo cáo này?" in reply
    await head.send("/huy")
    reply = await head.send(text)  # after the main menu, whose items are numbered
    assert "sự cố" not in reply

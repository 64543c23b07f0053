"""The 6-month and yearly movement reports, as village heads and officers chat them through."""

from __future__ import annotations

from datetime import date

import pytest

from storage import households as hh
from storage.reports import (
    HALF_YEAR_FORM,
    MONTHLY_FORM,
    YEARLY_FORM,
    current_report,
    movement_period,
    movement_support_total,
    report_versions,
    save_report,
)
from tests.conftest import SETUP, Chat

pytestmark = pytest.mark.usefixtures("world")


async def monthly(db, clock, village, period, support):
    """A village's monthly report for ``period`` with ``support`` VND mobilised."""
    data = {"total": 120, "poor": 15, "near_poor": 8, "exited": 0, "newly_poor": 0,
            "fallen_back": 0, "em_poor": 3, "loans": 10, "support_vnd": support, "note": ""}
    async with db.write() as conn:
        await save_report(conn, area_id=village.id, form=MONTHLY_FORM, period=period,
                          data=data, actor=SETUP, via="test", at=clock())


async def saved(db, area, form=HALF_YEAR_FORM, year=2026):
    async with db.read() as conn:
        return await current_report(conn, area.id, form, movement_period(form, year))


async def seed_months(db, clock, world):
    """Bản Nà Khan: 2tr in January, 3,5tr in June, 10tr in August (after the first half);
    Bản Pa Ủ 1tr in March; the far village (another commune) 50tr in February."""
    await monthly(db, clock, world.village, "2026-01", 2_000_000)
    await monthly(db, clock, world.village, "2026-06", 3_500_000)
    await monthly(db, clock, world.village, "2026-08", 10_000_000)
    await monthly(db, clock, world.village2, "2026-03", 1_000_000)
    await monthly(db, clock, world.far_village, "2026-02", 50_000_000)
    await monthly(db, clock, world.village, "2025-12", 7_000_000)  # last year


async def test_periods_and_support_sums(db, clock, world):
    await seed_months(db, clock, world)
    assert movement_period(HALF_YEAR_FORM, 2026) == "2026-H1"
    assert movement_period(YEARLY_FORM, 2026) == "2026"
    async with db.read() as conn:
        assert await movement_support_total(conn, world.village, HALF_YEAR_FORM, 2026) \
            == 5_500_000
        assert await movement_support_total(conn, world.village, YEARLY_FORM, 2026) \
            == 15_500_000
        assert await movement_support_total(conn, world.commune, HALF_YEAR_FORM, 2026) \
            == 6_500_000
        assert await movement_support_total(conn, world.province, HALF_YEAR_FORM, 2026) \
            == 56_500_000
        assert await movement_support_total(conn, world.village, YEARLY_FORM, 2025) \
            == 7_000_000


async def test_village_head_files_half_year_with_support_prefilled(core, db, world, clock):
    await seed_months(db, clock, world)
    head = Chat(core, "100")
    reply = await head.send("/baocao6thang")
    assert "6 tháng đầu năm 2026" in reply and "Bản Nà Khan" in reply
    assert "(1/5) Trong 6 tháng đầu năm đã tổ chức" in reply
    reply = await head.send("   ")
    assert "bạn chưa gõ gì" in reply and "(1/5)" in reply
    reply = await head.send("Họp thôn vận động 3 hộ đăng ký thoát nghèo")
    assert "(2/5)" in reply
    assert "theo các báo cáo tháng của thôn: 5.500.000đ" in reply
    assert "Giữ nguyên (5.500.000đ)" in head.options()
    reply = await head.send("nhiều lắm")
    assert "không phải là một số" in reply and "(2/5)" in reply
    reply = await head.press("Giữ nguyên")
    assert "(3/5) Mô hình hay" in reply
    await head.send("Nuôi bò sinh sản theo nhóm hộ")
    await head.press("Bỏ qua")
    reply = await head.send("Xin thêm vốn vay cho 5 hộ")
    assert "1. Hoạt động đã tổ chức: Họp thôn vận động 3 hộ" in reply
    assert "2. Tiền vận động hỗ trợ: 5.500.000đ" in reply
    assert "4. Khó khăn, vướng mắc: —" in reply
    assert "Đề nghị khen thưởng" not in reply  # only the yearly report has nominations
    assert await saved(db, world.village) is None  # nothing saved before "Gửi"
    reply = await head.press("Gửi")
    assert "Đã lưu báo cáo 6 tháng đầu năm 2026 của Bản Nà Khan (phiên bản 1)" in reply
    report = await saved(db, world.village)
    assert report.data == {
        "activities": "Họp thôn vận động 3 hộ đăng ký thoát nghèo",
        "support_vnd": 5_500_000, "models": "Nuôi bò sinh sản theo nhóm hộ",
        "difficulties": "", "proposals": "Xin thêm vốn vay cho 5 hộ",
    }
    assert report.submitted_by == world.head_id


async def test_typed_support_replaces_the_sum(core, db, world, clock):
    await seed_months(db, clock, world)
    head = Chat(core, "100")
    await head.send("bc6t")
    await head.send("Tập huấn trồng chè")
    await head.send("6tr5")
    for _ in range(3):
        await head.press("Bỏ qua")
    await head.press("Gửi")
    assert (await saved(db, world.village)).data["support_vnd"] == 6_500_000


async def fill_yearly_fields(head: Chat) -> str:
    await head.send("Hưởng ứng Tháng cao điểm, làm 2 nhà đại đoàn kết")
    await head.press("Giữ nguyên")
    for _ in range(3):
        reply = await head.press("Bỏ qua")
    return reply


async def test_yearly_report_with_two_nominations(core, db, world, clock):
    async with db.write() as conn:
        for code, name in (("NK-001", "Lò Văn Sơn"), ("NK-002", "Lò Thị Mai"),
                           ("NK-003", "Lò Văn Sáng")):
            await hh.add_household(conn, village_id=world.village.id, code=code,
                                   head_name=name, status="poor",
                                   status_since=date(2025, 1, 1), actor=SETUP, at=clock())
    head = Chat(core, "100")
    reply = await head.send("/baocaonam")
    assert "Báo cáo năm 2026 — Bản Nà Khan" in reply
    reply = await fill_yearly_fields(head)
    assert "Đề nghị khen thưởng" in reply and "chưa có" in reply
    assert "Gửi" not in " ".join(head.options())  # the nominations come before the summary
    reply = await head.press("Hộ gia đình")
    assert "mã hộ hoặc họ tên chủ hộ" in reply
    reply = await head.send("lo van")  # two households match
    assert "Có nhiều hộ khớp" in reply
    assert "NK-001 — Lò Văn Sơn" in head.options() and "NK-003 — Lò Văn Sáng" in head.options()
    number = head.options().index("NK-001 — Lò Văn Sơn") + 1
    reply = await head.send(str(number))  # a numbered choice, as on a channel without buttons
    assert "Lý do đề nghị khen thưởng Lò Văn Sơn" in reply
    reply = await head.send("")
    assert "chưa gõ lý do" in reply
    reply = await head.send("Tự nguyện đăng ký và đã thoát nghèo")
    assert "Đã thêm: Hộ gia đình: NK-001 Lò Văn Sơn — Tự nguyện đăng ký" in reply
    await head.press("Cá nhân")
    reply = await head.send("Nguyễn Văn Bình, chủ cửa hàng vật tư")
    assert "Lý do đề nghị khen thưởng Nguyễn Văn Bình" in reply
    reply = await head.send("Ủng hộ 20 triệu cho Quỹ Vì người nghèo")
    assert "Đề nghị khen thưởng (2)" in reply
    reply = await head.press("Xong")
    assert "1. Hoạt động đã tổ chức: Hưởng ứng Tháng cao điểm" in reply
    assert "1. Hộ gia đình: NK-001 Lò Văn Sơn — Tự nguyện đăng ký và đã thoát nghèo" in reply
    assert "2. Cá nhân: Nguyễn Văn Bình, chủ cửa hàng vật tư — Ủng hộ 20 triệu" in reply
    assert await saved(db, world.village, YEARLY_FORM) is None
    reply = await head.press("Gửi")
    assert "Đã lưu báo cáo năm 2026 của Bản Nà Khan (phiên bản 1)" in reply
    report = await saved(db, world.village, YEARLY_FORM)
    household_id = (await _household(db, world.village, "NK-001")).id
    assert report.data["nominations"] == [
        {"kind": "household", "name": "Lò Văn Sơn", "code": "NK-001",
         "household_id": household_id, "reason": "Tự nguyện đăng ký và đã thoát nghèo"},
        {"kind": "person", "name": "Nguyễn Văn Bình, chủ cửa hàng vật tư",
         "reason": "Ủng hộ 20 triệu cho Quỹ Vì người nghèo"},
    ]
    assert report.data["activities"].startswith("Hưởng ứng Tháng cao điểm")


async def _household(db, village, code):
    async with db.read() as conn:
        return await hh.household_by_code(conn, village.id, code)


async def test_nominations_edit_remove_and_back(core, db, world):
    """Without a household list a typed name is kept; a nomination can be removed; a step
    can be left with «Quay lại»; the summary leads back to the nominations."""
    head = Chat(core, "100")
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Hộ gia đình")
    reply = await head.send("Hộ ông Lò Văn Tư")  # the village keeps no household list
    assert "Lý do đề nghị khen thưởng Hộ ông Lò Văn Tư" in reply
    reply = await head.press("Quay lại")
    assert "chưa có" in reply  # nothing half-added
    await head.press("Cá nhân")
    await head.send("Lò Thị Dung")
    await head.send("Giúp 3 hộ nghèo làm nhà")
    await head.press("Hộ gia đình")
    await head.send("Hộ ông Lò Văn Tư")
    await head.send("Thoát nghèo bền vững")
    reply = await head.press("Bỏ một đề nghị")
    assert "Bỏ đề nghị nào?" in reply
    reply = await head.send("1")
    assert "Đã bỏ: Cá nhân: Lò Thị Dung" in reply and "Đề nghị khen thưởng (1)" in reply
    reply = await head.send("xong")
    assert "1. Hộ gia đình: Hộ ông Lò Văn Tư — Thoát nghèo bền vững" in reply
    reply = await head.press("Đề nghị khen thưởng")
    assert "Đề nghị khen thưởng (1)" in reply
    await head.press("Xong")
    await head.press("Gửi")
    report = await saved(db, world.village, YEARLY_FORM)
    assert report.data["nominations"] == [
        {"kind": "household", "name": "Hộ ông Lò Văn Tư", "reason": "Thoát nghèo bền vững"}]


async def test_yearly_report_without_nominations_saves_an_empty_list(core, db, world):
    head = Chat(core, "100")
    await head.send("tong ket")
    await fill_yearly_fields(head)
    reply = await head.press("Xong")
    assert "Đề nghị khen thưởng: chưa có" in reply
    await head.press("Gửi")
    assert (await saved(db, world.village, YEARLY_FORM)).data["nominations"] == []


async def test_commune_officer_files_for_the_commune(core, db, world, clock):
    await seed_months(db, clock, world)
    officer = Chat(core, "200")
    reply = await officer.send("/baocao6thang")
    assert "6 tháng đầu năm 2026 — Xã Mường Tè" in reply
    reply = await officer.send("Tổ chức hội nghị sơ kết ở 2 thôn")
    assert "theo các báo cáo tháng của các thôn: 6.500.000đ" in reply  # not the far village
    await officer.press("Giữ nguyên")
    for _ in range(3):
        await officer.press("Bỏ qua")
    reply = await officer.press("Gửi")
    assert "của Xã Mường Tè (phiên bản 1)" in reply
    report = await saved(db, world.commune)
    assert report.data["support_vnd"] == 6_500_000
    assert report.submitted_by == world.officer_id
    assert await saved(db, world.village) is None


async def test_officer_files_for_a_village_by_name(core, db, world, clock):
    await seed_months(db, clock, world)
    officer = Chat(core, "200")
    reply = await officer.send("/baocaonam pa u")
    assert "Báo cáo năm 2026 — Bản Pa Ủ" in reply
    reply = await officer.send("Vận động 2 hộ đăng ký thoát nghèo")
    assert "của thôn: 1.000.000đ" in reply


async def test_province_officer_picks_a_commune_from_a_numbered_list(core, db, world, clock):
    await seed_months(db, clock, world)
    officer = Chat(core, "300")
    reply = await officer.send("/baocao6thang")
    assert "thôn hoặc xã nào" in reply
    assert "Xã Mường Tè" in officer.options() and "Xã Bum Nưa" in officer.options()
    reply = await officer.send(str(officer.options().index("Xã Bum Nưa") + 1))
    assert "6 tháng đầu năm 2026 — Xã Bum Nưa" in reply
    reply = await officer.send("Hội nghị sơ kết xã")
    assert "50.000.000đ" in reply


async def test_area_outside_scope_is_refused_without_revealing_it(core, world):
    officer = Chat(core, "200")
    outside = await officer.send("/baocao6thang Bản Nậm Củm")  # exists, in another commune
    missing = await officer.send("/baocao6thang Bản Không Có")  # does not exist
    assert "Không tìm thấy thôn, xã «Bản Nậm Củm» trong địa bàn của bạn" in outside
    assert outside.replace("Bản Nậm Củm", "X") == missing.replace("Bản Không Có", "X")
    reply = await officer.send("/baocaonam Xã Bum Nưa")  # the other commune
    assert "Không tìm thấy thôn, xã «Xã Bum Nưa»" in reply and "(1/5)" not in reply


async def test_village_head_cannot_file_for_another_area(core, db, world):
    head = Chat(core, "100")
    reply = await head.send("/baocao6thang Bản Pa Ủ")
    assert "chỉ được báo cáo cho thôn của mình: Bản Nà Khan" in reply
    reply = await head.send("/baocaonam Xã Mường Tè")
    assert "chỉ được báo cáo cho thôn của mình: Bản Nà Khan" in reply
    reply = await head.send("/baocaonam na khan")  # their own, typed without diacritics
    assert "Báo cáo năm 2026 — Bản Nà Khan" in reply


async def test_years_accepted_and_refused(core, db, world, clock):
    head = Chat(core, "100")
    reply = await head.send("/baocaonam 2027")
    assert "Không nhận báo cáo năm 2027" in reply and "năm: 2026, 2025" in reply
    reply = await head.send("/baocao6thang 2024")
    assert "Không nhận báo cáo 6 tháng đầu năm 2024" in reply and "2026, 2025" in reply
    reply = await head.send("/baocaonam 2025")
    assert "Báo cáo năm 2025 — Bản Nà Khan" in reply
    await head.send("/huy")
    reply = await head.press_data("cmd:half_year 2026")  # a reminder's button
    assert "6 tháng đầu năm 2026 — Bản Nà Khan" in reply
    await head.send("/huy")
    reply = await head.send("/baocaonam nam ngoai")  # words, not a year: an area name
    assert "chỉ được báo cáo cho thôn của mình" in reply


async def test_default_year_follows_the_season(core, world, clock):
    head = Chat(core, "100")
    clock.set_local("2026-04-20 09:00")
    reply = await head.send("/baocao6thang")
    assert "6 tháng đầu năm 2025" in reply
    await head.send("/huy")
    reply = await head.send("/baocao6thang 2026")  # opens on 1 May
    assert "nhận từ ngày 01/05/2026" in reply and "năm: 2025" in reply
    reply = await head.send("/baocaonam")
    assert "Báo cáo năm 2025" in reply
    await head.send("/huy")
    clock.set_local("2026-05-01 07:00")
    reply = await head.send("/baocao6thang")
    assert "6 tháng đầu năm 2026" in reply


async def test_refiling_makes_version_two(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocao6thang")
    await head.send("Họp thôn")
    await head.send("2tr")
    for _ in range(3):
        await head.press("Bỏ qua")
    await head.press("Gửi")
    reply = await head.send("/baocao6thang")
    assert "phiên bản 1, do Lò Văn Páo gửi ngày 05/11/2026" in reply
    assert "Bản đã gửi: Họp thôn" in reply
    reply = await head.press("Giữ nguyên")
    assert "Bản đã gửi: 2.000.000đ" in reply
    await head.send("2tr5")
    for _ in range(3):
        await head.press("Bỏ qua")
    reply = await head.press("Gửi")
    assert "(phiên bản 2)" in reply
    async with db.read() as conn:
        versions = await report_versions(conn, world.village.id, HALF_YEAR_FORM, "2026-H1")
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].data["support_vnd"] == 2_500_000
    assert versions[1].data["support_vnd"] == 2_000_000
    assert versions[0].data["activities"] == "Họp thôn"


async def test_cancel_at_every_step_saves_nothing(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocaonam")
    reply = await head.send("Hủy")
    assert "Đã hủy" in reply
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Hộ gia đình")
    reply = await head.press("Hủy")
    assert "Đã hủy" in reply
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Cá nhân")
    await head.send("Lò Thị Dung")
    reply = await head.send("/huy")  # at the reason
    assert "Đã hủy" in reply
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Xong")
    reply = await head.press("Hủy")  # at the summary
    assert "Đã hủy" in reply
    reply = await head.send("/huy")
    assert "Không có việc gì" in reply
    assert await saved(db, world.village, YEARLY_FORM) is None


async def test_stale_button_and_restart_mid_dialog(db, config, clock, world):
    from handlers.core import Core
    from storage.db import Database

    head = Chat(Core(db, config, clock), "100")
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Cá nhân")
    old_back = head.last[-1].options[0].data
    await head.send("Lò Thị Dung")
    reply = await head.press_data(old_back)
    assert "Nút này đã cũ" in reply and "Lý do đề nghị khen thưởng Lò Thị Dung" in reply
    await db.close()
    db2 = await Database.open(db.path)
    try:
        head.core = Core(db2, config, clock)
        reply = await head.send("Giúp 3 hộ nghèo làm nhà")
        assert "Đã thêm: Cá nhân: Lò Thị Dung — Giúp 3 hộ nghèo làm nhà" in reply
    finally:
        await db2.close()


async def test_nominations_are_bounded(core, db, world):
    head = Chat(core, "100")
    await head.send("/baocaonam")
    await fill_yearly_fields(head)
    await head.press("Cá nhân")
    reply = await head.send("A" * 101)
    assert "Tên dài quá 100 ký tự" in reply and "Họ tên người" in reply
    await head.send("Lò Thị Dung")
    reply = await head.send("x" * 301)
    assert "Lý do dài quá 300 ký tự" in reply and "Lý do đề nghị" in reply
    await head.send("Giúp 3 hộ nghèo làm nhà")
    for i in range(2, 21):
        await head.press("Cá nhân")
        await head.send(f"Người thứ {i}")
        reply = await head.send("Ủng hộ Quỹ Vì người nghèo")
    assert "Đề nghị khen thưởng (20)" in reply and "Đã đủ 20 đề nghị" in reply
    assert not any("Cá nhân" in o or "Hộ gia đình" in o for o in head.options())
    await head.press("Xong")
    await head.press("Gửi")
    report = await saved(db, world.village, YEARLY_FORM)
    assert len(report.data["nominations"]) == 20


def test_help_line_names_both_commands():
    from handlers.movement import help_line

    line = help_line()
    assert "/baocao6thang" in line and "/baocaonam" in line

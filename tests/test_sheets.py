"""The xlsx exports: built from hand-made data, reopened with openpyxl, checked cell by cell."""

from __future__ import annotations

import re
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from reports.figures import (
    HouseholdRow,
    HouseholdSheetData,
    MonthlySheetData,
    RegistrationRow,
    RegistrationSheetData,
    SummaryRow,
    SummarySheetData,
    VillageMonthRow,
    rate,
)
from reports.sheets import (
    file_name,
    households_workbook,
    monthly_workbook,
    registrations_workbook,
    summary_workbook,
)

AS_OF = date(2026, 11, 8)


def _open(data: bytes):
    return load_workbook(BytesIO(data))


def _row(ws: Worksheet, row: int) -> list:
    return [cell.value for cell in ws[row]]


def _village(commune: str, village: str, **figures) -> VillageMonthRow:
    fields = dict(total=None, poor=None, near_poor=None, exited=None, newly_poor=None,
                  fallen_back=None, em_poor=None, loans=None, support_vnd=None, note="",
                  filed_at=None, filed_by=None, on_time=None)
    fields.update(figures)
    return VillageMonthRow(commune=commune, village=village, **fields)


NAM_CUM = _village(
    "Xã Mường Tè", "Bản Nậm Củm", total=120, poor=30, near_poor=12, exited=2, newly_poor=1,
    fallen_back=0, em_poor=28, loans=20, support_vnd=5_500_000, note="Đã họp bản",
    filed_at="05/11/2026 09:12", filed_by="Lò Văn A", on_time=True)
PA_U = _village("Xã Mường Tè", "Bản Pa Ủ")  # did not file
TA_TONG = _village(
    "Xã Tà Tổng", "Bản Tà Tổng", total=181_483, poor=20_381, near_poor=7, exited=0,
    newly_poor=0, fallen_back=1, em_poor=None, loans=3, support_vnd=None,
    note='=HYPERLINK("http://example.com")\x0b', filed_at="07/11/2026 18:30",
    filed_by="Nguyễn Thị B", on_time=False)

MONTHLY = MonthlySheetData(
    area="Tỉnh Lai Châu", as_of=AS_OF, period_label="tháng 9–10/2026",
    months=(("tháng 10/2026", (NAM_CUM, TA_TONG, PA_U)), ("tháng 9/2026", (NAM_CUM,))),
)

MONTHLY_HEADERS = [
    "Xã", "Thôn", "Tổng số hộ", "Hộ nghèo", "Tỷ lệ nghèo (%)", "Hộ cận nghèo",
    "Tỷ lệ cận nghèo (%)", "Thoát nghèo", "Nghèo phát sinh", "Tái nghèo", "Hộ nghèo DTTS",
    "Được vay vốn", "Vận động (đồng)", "Ghi chú", "Ngày gửi", "Người gửi", "Đúng hạn",
]


@pytest.fixture(scope="module")
def monthly():
    return _open(monthly_workbook(MONTHLY))


# ---- monthly ----------------------------------------------------------------------------------


def test_monthly_has_one_sheet_per_month_with_safe_titles(monthly):
    assert monthly.sheetnames == ["tháng 10-2026", "tháng 9-2026"]


def test_monthly_title_block(monthly):
    ws = monthly["tháng 10-2026"]
    assert [ws.cell(row=r, column=1).value for r in range(1, 7)] == [
        "Số liệu giảm nghèo hằng tháng",
        "Địa bàn: Tỉnh Lai Châu",
        "Kỳ báo cáo: tháng 10/2026 — thuộc tháng 9–10/2026",
        "Số liệu tính đến 08/11/2026",
        "Đã gửi báo cáo: 2/3 thôn, trong đó 1 thôn gửi đúng hạn.",
        None,
    ]
    assert ws["A1"].font.bold and ws["A1"].font.size == 14


def test_monthly_header_row(monthly):
    ws = monthly["tháng 10-2026"]
    assert _row(ws, 7) == MONTHLY_HEADERS
    for cell in ws[7]:
        assert cell.font.bold
        assert cell.alignment.wrap_text
        assert cell.fill.fgColor.rgb.endswith("D9D9D9")
        assert cell.border.top.style == cell.border.bottom.style == "thin"
    assert ws.column_dimensions["A"].width == 18
    assert ws.column_dimensions["N"].width == 30


def test_monthly_village_row(monthly):
    ws = monthly["tháng 10-2026"]
    assert _row(ws, 8) == [
        "Xã Mường Tè", "Bản Nậm Củm", 120, 30, 25.0, 12, 10.0, 2, 1, 0, 28, 20, 5_500_000,
        "Đã họp bản", datetime(2026, 11, 5, 9, 12), "Lò Văn A", "x",
    ]
    assert ws["C8"].number_format == "#,##0"
    assert ws["E8"].number_format == "0.00"
    assert ws["G8"].number_format == "0.00"
    assert ws["M8"].number_format == "#,##0"
    assert ws["O8"].number_format == "dd/mm/yyyy hh:mm"


def test_monthly_villages_are_grouped_by_commune_with_subtotals(monthly):
    ws = monthly["tháng 10-2026"]
    assert [ws.cell(row=r, column=1).value for r in range(8, 15)] == [
        "Xã Mường Tè", "Xã Mường Tè", "Cộng Xã Mường Tè", "Xã Tà Tổng", "Cộng Xã Tà Tổng",
        "Tổng cộng", None,
    ]
    assert _row(ws, 10) == [
        "Cộng Xã Mường Tè", "1/2 thôn đã gửi", 120, 30, 25.0, 12, 10.0, 2, 1, 0, 28, 20,
        5_500_000, None, None, None, 1,
    ]
    assert ws["A10"].font.bold and ws["C10"].font.bold


def test_monthly_not_filed_village_has_empty_figures(monthly):
    ws = monthly["tháng 10-2026"]
    values = _row(ws, 9)
    assert values[:2] == ["Xã Mường Tè", "Bản Pa Ủ"]
    assert values[2:14] == [None] * 12  # empty, not 0
    assert values[14:] == ["Chưa gửi", None, None]
    assert ws["O9"].font.italic


def test_monthly_late_village_and_rate_rounding(monthly):
    ws = monthly["tháng 10-2026"]
    values = _row(ws, 11)
    assert values[:8] == ["Xã Tà Tổng", "Bản Tà Tổng", 181_483, 20_381, 11.23, 7, 0.0, 0]
    assert values[10] is None and values[12] is None  # em_poor, support: not given
    assert values[14:] == [datetime(2026, 11, 7, 18, 30), "Nguyễn Thị B", "Trễ hạn"]


def test_monthly_note_is_text_never_a_formula(monthly):
    cell = monthly["tháng 10-2026"]["N11"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://example.com")'  # the \x0b is dropped


def test_monthly_grand_total(monthly):
    ws = monthly["tháng 10-2026"]
    # 120 + 181,483 = 181,603 households, 30 + 20,381 = 20,411 poor: 11.2393… % → 11.24
    assert _row(ws, 13) == [
        "Tổng cộng", "2/3 thôn đã gửi", 181_603, 20_411, 11.24, 19, 0.01, 2, 1, 1, 28, 23,
        5_500_000, None, None, None, 1,
    ]
    assert ws["E13"].number_format == "0.00"
    assert ws["C13"].number_format == "#,##0"
    assert ws["A13"].font.bold


def test_monthly_single_commune_has_no_subtotal(monthly):
    ws = monthly["tháng 9-2026"]
    assert ws["A3"].value == "Kỳ báo cáo: tháng 9/2026 — thuộc tháng 9–10/2026"
    assert ws["A8"].value == "Xã Mường Tè"
    assert ws["A9"].value == "Tổng cộng"
    assert ws["C9"].value == 120 and ws["E9"].value == 25.0
    assert ws.max_row == 9


def test_monthly_print_setup_and_panes(monthly):
    for ws in monthly.worksheets:
        assert ws.freeze_panes == "C8"
        assert ws.print_title_rows == "$7:$7"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.oddFooter.center.text == "Trang &P/&N"
        assert ws.oddFooter.left.text == "Số liệu giảm nghèo hằng tháng – Tỉnh Lai Châu"
        assert ws.oddFooter.right.text == "Số liệu tính đến 08/11/2026"


def test_monthly_same_label_as_period_and_no_months():
    one = MonthlySheetData("Xã Mường Tè", AS_OF, "tháng 10/2026",
                           (("tháng 10/2026", (NAM_CUM,)),))
    ws = _open(monthly_workbook(one)).active
    assert ws["A3"].value == "Kỳ báo cáo: tháng 10/2026"
    empty = MonthlySheetData("Xã Mường Tè", AS_OF, "tháng 10/2026", ())
    wb = _open(monthly_workbook(empty))
    assert wb.sheetnames == ["tháng 10-2026"]
    assert wb.active["A5"].value == "Đã gửi báo cáo: 0/0 thôn, trong đó 0 thôn gửi đúng hạn."
    assert _row(wb.active, 8)[:4] == ["Tổng cộng", "0/0 thôn đã gửi", None, None]


def test_sheet_titles_are_sanitized_and_unique():
    label = "Tháng [10]/2026: *báo cáo* chính thức? \\ rất dài"
    data = MonthlySheetData("Xã Mường Tè", AS_OF, "x", (
        (label, (NAM_CUM,)), (label, (NAM_CUM,)), ("'[]'", (NAM_CUM,)),
    ))
    titles = _open(monthly_workbook(data)).sheetnames
    assert len(titles) == 3 and len({title.casefold() for title in titles}) == 3
    for title in titles:
        assert len(title) <= 31
        assert not re.search(r"[\[\]:*?/\\]", title)
        assert not title.startswith("'") and not title.endswith("'")
    assert titles[0] == "Tháng -10--2026- -báo cáo- chín"  # cut at 31
    assert titles[1].endswith(" (2)")
    assert titles[2] == "--"


def test_no_workbook_contains_formulas(monthly):
    books = [monthly, _open(summary_workbook(SUMMARY)), _open(households_workbook(HOUSEHOLDS)),
             _open(registrations_workbook(REGISTRATIONS))]
    for wb in books:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                assert all(cell.data_type != "f" for cell in row)


# ---- summary ----------------------------------------------------------------------------------

MUONG_TE = SummaryRow(
    name="Xã Mường Tè", total=2000, poor=300, near_poor=150, poor_rate=15.0,
    near_poor_rate=7.5, start_poor_rate=17.25, baseline_poor_and_near=500, villages=10,
    reports_filed=9, reports_on_time=7, registered=12, recognised=4, support_vnd=12_000_000)
NEW_COMMUNE = SummaryRow(
    name="Xã Tà Tổng", total=0, poor=0, near_poor=0, poor_rate=None, near_poor_rate=None,
    start_poor_rate=None, baseline_poor_and_near=None, villages=3, reports_filed=0,
    reports_on_time=0, registered=0, recognised=0, support_vnd=0)
PROVINCE = SummaryRow(
    name="Tỉnh Lai Châu", total=181_603, poor=20_411, near_poor=9_000,
    poor_rate=rate(20_411, 181_603), near_poor_rate=rate(9_000, 181_603), start_poor_rate=12.5,
    baseline_poor_and_near=32_000, villages=120, reports_filed=100, reports_on_time=90,
    registered=300, recognised=45, support_vnd=1_250_000_000)
SUMMARY = SummarySheetData(
    area="Tỉnh Lai Châu", as_of=AS_OF, period_label="6 tháng đầu năm 2026",
    baseline_label="cuối năm 2021", rows=(MUONG_TE, NEW_COMMUNE), total=PROVINCE)


@pytest.fixture(scope="module")
def summary():
    return _open(summary_workbook(SUMMARY)).active


def test_summary_title_and_headers(summary):
    ws = summary
    assert ws.title == "Tổng hợp"
    assert [ws.cell(row=r, column=1).value for r in range(1, 5)] == [
        "Tổng hợp kết quả giảm nghèo", "Địa bàn: Tỉnh Lai Châu",
        "Kỳ báo cáo: 6 tháng đầu năm 2026", "Số liệu tính đến 08/11/2026",
    ]
    assert "cuối năm 2021" in ws["A5"].value
    assert _row(ws, 7) == [
        "Địa bàn", "Tổng số hộ", "Hộ nghèo", "Tỷ lệ nghèo (%)", "Hộ cận nghèo",
        "Tỷ lệ cận nghèo (%)", "Tỷ lệ nghèo đầu năm (%)", "Thay đổi từ đầu năm (điểm %)",
        "Hộ nghèo + cận nghèo gốc (cuối năm 2021)", "Thay đổi so với gốc (%)", "Số thôn",
        "Báo cáo đã gửi", "Đúng hạn", "Đăng ký thoát nghèo", "Đã công nhận",
        "Vận động (đồng)", "Ghi chú",
    ]
    assert all(cell.font.bold and cell.alignment.wrap_text for cell in ws[7])


def test_summary_child_row(summary):
    # change since the start: 15.00 − 17.25 = −2.25 points; against the baseline:
    # (300 + 150 − 500) ÷ 500 = −10 %
    assert _row(summary, 8) == [
        "Xã Mường Tè", 2000, 300, 15.0, 150, 7.5, 17.25, -2.25, 500, -10.0, 10, 9, 7, 12, 4,
        12_000_000, None,
    ]
    assert summary["D8"].number_format == "0.00"
    assert summary["H8"].number_format == "+0.00;-0.00;0.00"
    assert summary["P8"].number_format == "#,##0"


def test_summary_none_is_an_empty_cell_not_zero(summary):
    assert _row(summary, 9) == [
        "Xã Tà Tổng", 0, 0, None, 0, None, None, None, None, None, 3, 0, 0, 0, 0, 0, None,
    ]


def test_summary_total_row(summary):
    # 20,411 ÷ 181,603 = 11.2393… % → 11.24; 9,000 ÷ 181,603 = 4.9559 % → 4.96;
    # 11.2393 − 12.5 = −1.2607 → −1.26; (29,411 − 32,000) ÷ 32,000 = −8.0906 % → −8.09
    assert _row(summary, 10) == [
        "Tổng cộng", 181_603, 20_411, 11.24, 9_000, 4.96, 12.5, -1.26, 32_000, -8.09, 120,
        100, 90, 300, 45, 1_250_000_000, None,
    ]
    assert summary["D10"].number_format == "0.00"
    assert summary["P10"].number_format == "#,##0"
    assert summary["A10"].font.bold
    assert summary.max_row == 10


def test_summary_print_setup(summary):
    assert summary.freeze_panes == "B8"
    assert summary.print_title_rows == "$7:$7"
    assert summary.page_setup.orientation == "landscape"
    assert summary.page_setup.fitToWidth == 1
    assert summary.sheet_properties.pageSetUpPr.fitToPage
    assert summary.oddFooter.center.text == "Trang &P/&N"


# ---- households and registrations -------------------------------------------------------------

HOUSEHOLDS = HouseholdSheetData(area="Xã Mường Tè", as_of=AS_OF, households=(
    HouseholdRow("Xã Mường Tè", "Bản Nậm Củm", "NC-001", "Lò Văn Piềng", "Hộ nghèo",
                 date(2025, 12, 20), True, False, False, True),
    HouseholdRow("Xã Mường Tè", "Bản Pa Ủ", "PU-007", "Pờ Mì Lé", "Hộ cận nghèo",
                 date(2026, 3, 1), True, True, True, False),
))


def test_households_list():
    ws = _open(households_workbook(HOUSEHOLDS)).active
    assert ws.title == "Danh sách hộ"
    assert [ws.cell(row=r, column=1).value for r in range(1, 5)] == [
        "Danh sách hộ gia đình", "Địa bàn: Xã Mường Tè", "Số liệu tính đến 08/11/2026",
        "Tài liệu có thông tin cá nhân của hộ gia đình: chỉ dùng cho công tác giảm nghèo, "
        "không chia sẻ ra ngoài.",
    ]
    assert _row(ws, 6) == [
        "STT", "Xã", "Thôn", "Mã hộ", "Chủ hộ", "Phân loại", "Từ ngày", "Dân tộc thiểu số",
        "Không có khả năng lao động", "Có người có công", "Vay vốn NHCSXH",
    ]
    assert _row(ws, 7) == [
        1, "Xã Mường Tè", "Bản Nậm Củm", "NC-001", "Lò Văn Piềng", "Hộ nghèo",
        datetime(2025, 12, 20), "x", None, None, "x",
    ]
    assert ws["G7"].number_format == "dd/mm/yyyy"
    assert _row(ws, 8)[0] == 2 and _row(ws, 8)[7:] == ["x", "x", "x", None]
    assert _row(ws, 9) == [None, "Tổng cộng", "2 hộ", None, None, None, None, 2, 1, 1, 1]
    assert ws["B9"].font.bold
    assert ws.freeze_panes == "A7"
    assert ws.print_title_rows == "$6:$6"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1


def test_households_empty_list_still_counts():
    ws = _open(households_workbook(HouseholdSheetData("Xã Mường Tè", AS_OF, ()))).active
    assert _row(ws, 7) == [None, "Tổng cộng", "0 hộ", None, None, None, None, 0, 0, 0, 0]


REGISTRATIONS = RegistrationSheetData(area="Xã Mường Tè", as_of=AS_OF, registrations=(
    RegistrationRow("Xã Mường Tè", "Bản Nậm Củm", "NC-001", "Lò Văn Piềng", 2027,
                    "Nuôi 5 con bò sinh sản, trồng 1 ha quế", "Vay 50 triệu đồng",
                    date(2026, 4, 2), "đang xem xét", date(2026, 10, 15)),
))


def test_registrations_list():
    ws = _open(registrations_workbook(REGISTRATIONS)).active
    assert ws.title == "Đăng ký thoát nghèo"
    assert ws["A1"].value == "Danh sách hộ đăng ký thoát nghèo"
    assert ws["A4"].value.startswith("Tài liệu có thông tin cá nhân")
    assert _row(ws, 6) == [
        "STT", "Xã", "Thôn", "Mã hộ", "Chủ hộ", "Năm đăng ký thoát nghèo",
        "Phương án sinh kế", "Hỗ trợ đề nghị", "Ngày đăng ký", "Trạng thái", "Ngày cập nhật",
    ]
    assert _row(ws, 7) == [
        1, "Xã Mường Tè", "Bản Nậm Củm", "NC-001", "Lò Văn Piềng", 2027,
        "Nuôi 5 con bò sinh sản, trồng 1 ha quế", "Vay 50 triệu đồng",
        datetime(2026, 4, 2), "đang xem xét", datetime(2026, 10, 15),
    ]
    assert ws["F7"].number_format == "0"  # a year, not "2,027"
    assert ws["I7"].number_format == ws["K7"].number_format == "dd/mm/yyyy"
    assert ws["G7"].alignment.wrap_text
    assert _row(ws, 8) == [None, "Tổng cộng", "1 hộ đăng ký"] + [None] * 8
    assert ws.freeze_panes == "A7"
    assert ws.print_title_rows == "$6:$6"
    assert ws.page_setup.paperSize == 9  # A4


# ---- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "area", "period", "expected"), [
    ("monthly", "Xã Mường Tè", "2026-10", "so-lieu-thang_xa-muong-te_2026-10.xlsx"),
    ("summary", "Tỉnh Lai Châu", "6 tháng đầu năm 2026",
     "tong-hop_tinh-lai-chau_6-thang-dau-nam-2026.xlsx"),
    ("households", "Phường Đông Kinh", "", "danh-sach-ho_phuong-dong-kinh.xlsx"),
    ("registrations", "Đặc khu Phú Quốc / Ưu tiên", "10/2026",
     "dang-ky-thoat-ngheo_dac-khu-phu-quoc-uu-tien_10-2026.xlsx"),
])
def test_file_names(kind, area, period, expected):
    name = file_name(kind, area, period)
    assert name == expected
    assert re.fullmatch(r"[a-z0-9_-]+\.xlsx", name)


def test_file_name_rejects_unknown_kind():
    with pytest.raises(ValueError):
        file_name("charts", "Xã Mường Tè", "2026-10")

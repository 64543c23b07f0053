"""Importing household lists (``python -m bot import-households``) and listing them
(``python -m bot households``), run through ``bot.cli.main`` on a temp database."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot import household_import as hi
from common.text import unseen
from storage import audit
from storage import households as hh
from tests.test_cli import Cli, write_csv


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    for var in ("GIAMNGHEO_DB", "GIAMNGHEO_CONFIG", "GIAMNGHEO_TELEGRAM_USERNAME",
                "GIAMNGHEO_TELEGRAM_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    cli = Cli(tmp_path, capsys)
    roster = write_csv(tmp_path / "tree.csv", (
        "Tỉnh,Xã,Thôn\n"
        "Lai Châu,Mường Tè,Bản Nà Khan\n"
        "Lai Châu,Mường Tè,Bản Pa Ủ\n"
        "Lai Châu,Bum Nưa,Bản Nậm Củm\n"
    ))
    assert cli("import-areas", str(roster)).code == 0
    cli.ids = {a.name: a.id for a in cli.all_areas()}
    return cli


def households(run, village: str) -> dict[str, hh.Household]:
    found = run.query(lambda conn: hh.list_households(conn, run.ids[village]))
    return {h.code: h for h in found}


def household_log(run) -> list[dict]:
    return [e for e in run.audit_log() if e["entity"] == "household"]


VILLAGE_LIST = (
    "Danh sách hộ nghèo, hộ cận nghèo năm 2026;;;;;;\n"
    "STT;Mã hộ;Họ và tên chủ hộ;Phân loại hộ;Dân tộc thiểu số;Không có khả năng lao động;"
    "Có người có công;Vay vốn NHCSXH\n"
    "(1);(2);(3);(4);(5);(6);(7);(8)\n"
    "1;NK01;Lò Văn Páo;Hộ nghèo;x;;;x\n"
    "2;nk02;Lò Thị Mai;cận nghèo;có;1;;\n"
    "\n"
    "3;NK03;Tao Văn Sinh;trung binh;;;yes;có\n"
    "4;NK04;Nguyễn Văn An;Khác;0;không;;\n"
    "5;NK05;Lò Văn Dơ;ho ngheo;X;;;1\n"
)


# --- good files ----------------------------------------------------------------------------------

def test_import_a_village_list(run):
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    result = run("import-households", str(path), "--village", "Nà Khan", "--as-of",
                 "2026-10-01")
    assert result.code == 0, result.err
    assert "header on row 2" in result.out and "Read 5 rows" in result.out
    assert "Columns not imported: «STT»." in result.out
    assert re.search(r"Bản Nà Khan\s+5\s+5\s+0\s+0\s+0\s+0", result.out)
    got = households(run, "Bản Nà Khan")
    assert list(got) == ["NK01", "NK02", "NK03", "NK04", "NK05"]
    flags = {code: (h.status, h.ethnic_minority, h.no_work_capacity, h.has_merit, h.has_loan)
             for code, h in got.items()}
    assert flags == {
        "NK01": ("poor", True, False, False, True),
        "NK02": ("near_poor", True, True, False, False),
        "NK03": ("average", False, False, True, True),
        "NK04": ("other", False, False, False, False),
        "NK05": ("poor", True, False, False, True),
    }
    assert got["NK01"].status_since == date(2026, 10, 1)
    log = household_log(run)
    assert [e["action"] for e in log] == ["create"] * 5
    assert {e["actor"] for e in log} == {run.audit_log()[0]["actor"]}  # cli:<user>
    figures = run.query(lambda conn: hh.village_figures(conn, run.ids["Bản Nà Khan"],
                                                        "2026-10"))
    assert figures == {"total": 5, "poor": 2, "near_poor": 1, "em_poor": 2, "loans": 2,
                       "exited": 0, "newly_poor": 0, "fallen_back": 0}


def _commune_book(path: Path) -> Path:
    """An official-looking commune list: a guide sheet, a merged title row, a two-row header
    with a group title over the flags, the village written once over its households."""
    book = Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    guide["A1"] = "Điền danh sách hộ ở trang sau"
    sheet = book.create_sheet("DS hộ")
    sheet["A1"] = "DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO XÃ MƯỜNG TÈ"
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["Thôn", "Mã hộ", "Họ tên chủ hộ", "Phân loại", "Đối tượng", None, None,
                  "Số CCCD"])
    sheet.append([None, None, None, None, "DTTS", "Người có công", "Vay vốn", None])
    for col in "ABCDH":
        sheet.merge_cells(f"{col}3:{col}4")
    sheet.merge_cells("E3:G3")
    sheet.append(["Bản Nà Khan", "NK01", "Lò Văn Páo", "nghèo", "x", None, "x", "012345678901"])
    sheet.append([None, "NK02", "Lò Thị Mai", "cận nghèo", None, "x", None, None])
    sheet.merge_cells("A5:A6")
    sheet.append(["pa u", "PU01", "Vàng A Sử", "nghèo", "x", None, None, "098765432109"])
    sheet.append(["Bản Pa Ủ", "NK01", "Giàng Thị Dở", "trung bình", "x", None, None, None])
    book.save(path)
    return path


def test_import_a_commune_xlsx_with_merged_cells_and_two_header_rows(run):
    book = _commune_book(run.tmp_path / "xa.xlsx")
    result = run("import-households", str(book), "--commune", "Mường Tè")
    assert result.code == 0, result.err
    assert "sheet «DS hộ»" in result.out and "header on row 4" in result.out
    assert ("warning: column «Số CCCD» looks like ID-card numbers: it is ignored and never "
            "stored") in result.err
    nk, pu = households(run, "Bản Nà Khan"), households(run, "Bản Pa Ủ")
    assert [(h.code, h.head_name, h.status, h.ethnic_minority, h.has_merit, h.has_loan)
            for h in nk.values()] == [
        ("NK01", "Lò Văn Páo", "poor", True, False, True),
        ("NK02", "Lò Thị Mai", "near_poor", False, True, False),
    ]
    assert [(h.code, h.head_name) for h in pu.values()] == [
        ("NK01", "Giàng Thị Dở"), ("PU01", "Vàng A Sử")]  # codes are unique per village
    data = (run.db_path.read_bytes()
            + run.db_path.with_name(run.db_path.name + "-wal").read_bytes()
            if run.db_path.with_name(run.db_path.name + "-wal").exists()
            else run.db_path.read_bytes())
    assert b"012345678901" not in data and b"098765432109" not in data


def test_a_two_row_header_without_vertical_merges(run):
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã hộ", "Họ tên chủ hộ", "Phân loại", "Đối tượng", None, "Số CMND", "STT"])
    sheet.merge_cells("D1:E1")
    sheet.append([None, None, None, "DTTS", "Vay vốn", None, None])
    sheet.append(["NK01", "Lò Văn Páo", "nghèo", "x", "x", "012345678", 1])
    book.save(run.tmp_path / "two.xlsx")
    result = run("import-households", str(run.tmp_path / "two.xlsx"), "--village", "Nà Khan")
    assert result.code == 0, result.err
    assert "header on row 2" in result.out and "Columns not imported: «STT»." in result.out
    assert "column «Số CMND» looks like ID-card numbers" in result.err
    h = households(run, "Bản Nà Khan")["NK01"]
    assert (h.ethnic_minority, h.has_loan) == (True, True)


def test_an_ethnicity_column_names_the_group(run):
    path = write_csv(run.tmp_path / "dt.csv", (
        "Mã hộ,Chủ hộ,Phân loại,Dân tộc\n"
        "1,Lò Văn Páo,nghèo,Thái\n"
        "2,Nguyễn Văn An,nghèo,Kinh\n"
        "3,Vàng A Sử,nghèo,\n"
    ))
    assert run("import-households", str(path), "--village", "Nà Khan").code == 0
    got = households(run, "Bản Nà Khan")
    assert [got[c].ethnic_minority for c in ("1", "2", "3")] == [True, False, False]


# --- bad rows ------------------------------------------------------------------------------------

COMMUNE_BAD = (
    "Thôn,Mã hộ,Họ tên chủ hộ,Phân loại,Vay vốn\n"
    "Nà Khan,NK01,Lò Văn Páo,nghèo,x\n"          # 2: good
    "Bản Lạ,XX01,Ai Đó,nghèo,\n"                 # 3: unknown village
    "Nà Khan,NK02,,nghèo,\n"                     # 4: no name
    "Nà Khan,NK03,Lò Văn Dơ,thoát nghèo,\n"      # 5: not a status
    "Nà Khan,nk01,Lò Văn Páo,nghèo,\n"           # 6: same code as row 2
    "Pa Ủ,PU01,Vàng A Sử,nghèo,hmm\n"            # 7: loan flag not understood
    ",PU02,Vàng A Pó,nghèo,\n"                   # 8: no village
    "Bản Pa Ủ,PU03,Giàng A Lử,cận nghèo,\n"      # 9: good
    "Nậm Củm,NC01,Pờ Văn Sứ,nghèo,\n"            # 10: a village of another commune
    "Pa Ủ,,Giàng Thị Dở,,\n"                     # 11: no code, no status
)


def test_bad_rows_are_listed_with_their_numbers_and_nothing_is_imported(run):
    path = write_csv(run.tmp_path / "bad.csv", COMMUNE_BAD, encoding="utf-8")
    result = run("import-households", str(path), "--commune", "Mường Tè")
    assert result.code == 1
    lines = result.err.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"row {n}" for n in (3, 4, 5, 6, 7, 8, 10, 11)]
    assert "unknown village «Bản Lạ» in Xã Mường Tè" in lines[0]
    assert "no head name" in lines[1]
    assert ("status «thoát nghèo» not understood (write nghèo, cận nghèo, trung bình or "
            "khác)") in lines[2]
    assert "household code NK01 is also on row 2" in lines[3]
    assert "«Vay vốn» value «hmm» not understood" in lines[4]
    assert "no village" in lines[5]
    assert "unknown village «Nậm Củm»" in lines[6]
    assert "no household code" in lines[7] and "no status" in lines[7]
    assert lines[-1].startswith("error: 8 bad rows; nothing was imported")
    assert households(run, "Bản Nà Khan") == {} and households(run, "Bản Pa Ủ") == {}
    assert household_log(run) == []


def test_dry_run_lists_bad_rows_and_changes_nothing(run):
    path = write_csv(run.tmp_path / "bad.csv", COMMUNE_BAD, encoding="utf-8")
    result = run("import-households", str(path), "--commune", "Mường Tè", "--dry-run")
    assert result.code == 1 and "row 3: unknown village" in result.err
    assert "nothing would be imported" in result.err
    good = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    result = run("import-households", str(good), "--village", "Nà Khan", "--dry-run")
    assert result.code == 0, result.err
    assert "Dry run: nothing was changed" in result.out
    assert "add (5):" in result.out and "Bản Nà Khan: NK01 Lò Văn Páo (poor)" in result.out
    assert re.search(r"WOULD ADD.*\n.*Bản Nà Khan\s+5\s+5", result.out)
    assert households(run, "Bản Nà Khan") == {}
    assert household_log(run) == []


def test_skip_bad_imports_the_good_rows(run):
    path = write_csv(run.tmp_path / "bad.csv", COMMUNE_BAD, encoding="utf-8")
    result = run("import-households", str(path), "--commune", "Mường Tè", "--skip-bad")
    assert result.code == 0, result.err
    assert "row 5: status «thoát nghèo»" in result.err
    assert "8 bad rows skipped" in result.out
    assert list(households(run, "Bản Nà Khan")) == ["NK01"]
    assert list(households(run, "Bản Pa Ủ")) == ["PU03"]
    assert households(run, "Bản Nà Khan")["NK01"].has_loan


def test_skip_bad_with_no_good_row_fails(run):
    path = write_csv(run.tmp_path / "bad.csv", "Mã hộ,Chủ hộ,Phân loại\nX,,nghèo\n")
    result = run("import-households", str(path), "--village", "Nà Khan", "--skip-bad")
    assert result.code == 1 and "no good rows" in result.err


# --- marking the lists complete ----------------------------------------------------------------

def household_lists(run) -> dict[str, bool]:
    async def read(conn):
        return {name: (await hh.household_list(conn, vid, "2026-11")).complete
                for name, vid in run.ids.items() if name.startswith("Bản")}
    return run.query(read)


def test_complete_marks_the_village_list_complete_audited_and_says_so_first_in_a_dry_run(run):
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    dry = run("import-households", str(path), "--village", "Nà Khan", "--complete", "--dry-run")
    assert dry.code == 0, dry.err
    assert "Household lists (--complete):" in dry.out
    assert "Bản Nà Khan: 5 households — would be marked complete" in dry.out
    assert household_lists(run)["Bản Nà Khan"] is False and households(run, "Bản Nà Khan") == {}
    done = run("import-households", str(path), "--village", "Nà Khan", "--complete")
    assert done.code == 0, done.err
    assert "Bản Nà Khan: 5 households — marked complete" in done.out
    assert "pre-fills" in done.out  # what it changes: the monthly report
    assert household_lists(run) == {"Bản Nà Khan": True, "Bản Pa Ủ": False, "Bản Nậm Củm": False}
    (mark,) = [e for e in run.audit_log() if e["entity"] == "household_list"]
    assert (mark["action"], mark["after"]) == ("mark_complete", {"complete": True,
                                                                 "households": 5})
    assert mark["actor"] == household_log(run)[0]["actor"]  # the operator
    again = run("import-households", str(path), "--village", "Nà Khan", "--complete")
    assert "Bản Nà Khan: 5 households — already marked complete" in again.out
    assert "Nothing new" in again.out
    assert len([e for e in run.audit_log() if e["entity"] == "household_list"]) == 1


def test_without_complete_no_list_is_marked(run):
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    result = run("import-households", str(path), "--village", "Nà Khan")
    assert result.code == 0 and "--complete" not in result.out
    assert household_lists(run)["Bản Nà Khan"] is False


def test_complete_leaves_out_villages_the_file_may_not_list_whole(run):
    old = write_csv(run.tmp_path / "old.csv", "Mã hộ,Chủ hộ,Phân loại\nPU09,Lò Văn Cũ,nghèo\n")
    assert run("import-households", str(old), "--village", "Pa Ủ").code == 0
    path = write_csv(run.tmp_path / "xa.csv", (
        "Thôn,Mã hộ,Họ tên chủ hộ,Phân loại\n"
        "Nà Khan,NK01,Lò Văn Páo,nghèo\n"
        "Nà Khan,NK02,Lò Thị Mai,cận nghèo\n"
        "Nậm Củm,NC01,Pờ Văn Sứ,nghèo\n"       # another commune's village: bad
        "Pa Ủ,PU01,Vàng A Sử,nghèo\n"
    ))
    result = run("import-households", str(path), "--commune", "Mường Tè", "--skip-bad",
                 "--complete")
    assert result.code == 0, result.err
    assert "Bản Pa Ủ: not marked — 1 household on record is not in the file" in result.out
    assert "Bản Nà Khan: not marked — row 4 names no village of Xã Mường Tè" in result.out
    assert household_lists(run) == {"Bản Nà Khan": False, "Bản Pa Ủ": False,
                                    "Bản Nậm Củm": False}
    fixed = write_csv(run.tmp_path / "xa2.csv", (
        "Thôn,Mã hộ,Họ tên chủ hộ,Phân loại\n"
        "Nà Khan,NK01,Lò Văn Páo,nghèo\n"
        "Nà Khan,NK02,Lò Thị Mai,cận nghèo\n"
        "Pa Ủ,PU01,Vàng A Sử,nghèo\n"
        "Pa Ủ,PU09,Lò Văn Cũ,nghèo\n"
        "Pa Ủ,PU03,,nghèo\n"                    # no name: a bad row of Pa Ủ
    ))
    result = run("import-households", str(fixed), "--commune", "Mường Tè", "--skip-bad",
                 "--complete")
    assert result.code == 0, result.err
    assert "Bản Nà Khan: 2 households — marked complete" in result.out
    assert "Bản Pa Ủ: not marked — row 6 of Bản Pa Ủ was skipped as bad" in result.out
    assert household_lists(run)["Bản Nà Khan"] is True


# --- importing again -----------------------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing(run):
    book = _commune_book(run.tmp_path / "xa.xlsx")
    assert run("import-households", str(book), "--commune", "Mường Tè").code == 0
    before, log = households(run, "Bản Nà Khan"), run.audit_log()
    again = run("import-households", str(book), "--commune", "Mường Tè")
    assert again.code == 0, again.err
    assert "Nothing new: every household is already on record as in the file." in again.out
    assert re.search(r"Bản Nà Khan\s+2\s+0\s+0\s+0\s+2\s+0", again.out)
    assert households(run, "Bản Nà Khan") == before
    assert run.audit_log() == log


def test_reimport_updates_changed_rows_and_records_status_changes(run):
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    run("import-households", str(path), "--village", "Nà Khan", "--as-of", "2026-01-01")
    changed = (VILLAGE_LIST
               .replace("1;NK01;Lò Văn Páo;Hộ nghèo;x;;;x", "1;NK01;Lò Văn Páo;trung bình;x;;;")
               .replace("2;nk02;Lò Thị Mai;cận nghèo;có;1;;", "2;nk02;Lo Thi Mai;cận nghèo;có;1;;")
               .replace("4;NK04;Nguyễn Văn An;Khác", "4;NK04;Nguyễn Văn An;nghèo"))
    write_csv(path, changed)
    result = run("import-households", str(path), "--village", "Nà Khan", "--as-of",
                 "2026-10-20")
    assert result.code == 0, result.err
    assert "Status changes recorded as of 2026-10-20: exited 1, newly_poor 1." in result.out
    assert re.search(r"Bản Nà Khan\s+5\s+0\s+2\s+2\s+2\s+0", result.out)
    got = households(run, "Bản Nà Khan")
    assert (got["NK01"].status, got["NK01"].has_loan) == ("average", False)
    assert got["NK01"].recently_exited_until == date(2029, 10, 20)  # config: 36 months
    assert got["NK02"].head_name == "Lo Thi Mai"  # the same name typed another way
    assert got["NK04"].status == "poor"
    updates = [(e["action"], e["before"], e["after"]) for e in household_log(run)[5:]]
    assert ("update", {"has_loan": True}, {"has_loan": False}) in updates
    status = [u for u in updates if u[0] == "status"]
    assert [(u[1]["status"], u[2]["status"], u[2]["event"]) for u in status] == [
        ("poor", "average", "exited"), ("other", "poor", "newly_poor")]
    events = run.query(lambda conn: hh.events_in_month(
        conn, "2026-10", village_id=run.ids["Bản Nà Khan"]))
    assert [(e.kind, e.recognised_by, e.reason) for e in events] == [
        ("exited", None, "import nk.csv"), ("newly_poor", None, "import nk.csv")]


def test_a_code_on_record_under_another_name_is_a_bad_row(run):
    path = write_csv(run.tmp_path / "nk.csv", "Mã hộ,Chủ hộ,Phân loại\nNK01,Lò Văn Páo,nghèo\n")
    run("import-households", str(path), "--village", "Nà Khan")
    write_csv(path, "Mã hộ,Chủ hộ,Phân loại\nNK01,Lò Thị Mai,nghèo\n")
    result = run("import-households", str(path), "--village", "Nà Khan")
    assert result.code == 1
    assert ("row 2: household code NK01 is already «Lò Văn Páo» in Bản Nà Khan (the row says "
            "«Lò Thị Mai»)") in result.err
    renamed = run("import-households", str(path), "--village", "Nà Khan", "--update-names")
    assert renamed.code == 0, renamed.err
    assert households(run, "Bản Nà Khan")["NK01"].head_name == "Lò Thị Mai"
    assert household_log(run)[-1]["after"] == {"head_name": "Lò Thị Mai"}


def test_a_village_column_must_agree_with_the_village_given(run):
    path = write_csv(run.tmp_path / "nk.csv",
                     "Thôn,Mã hộ,Chủ hộ,Phân loại\nBản Nà Khan,1,A,nghèo\nPa Ủ,2,B,nghèo\n")
    result = run("import-households", str(path), "--village", "Nà Khan")
    assert result.code == 1
    assert "row 3: village «Pa Ủ» is not Bản Nà Khan, the village given by --village" in (
        result.err)


# --- files and areas that cannot be used ---------------------------------------------------------

def test_a_missing_column_is_named(run):
    path = write_csv(run.tmp_path / "nk.csv", "Mã hộ;Họ tên chủ hộ;Ghi chú\nNK01;Lò Văn Páo;x\n")
    result = run("import-households", str(path), "--village", "Nà Khan")
    assert result.code == 1
    assert result.err == (
        "error: nk.csv: missing required column: «Phân loại / status» (looked for a header "
        "row in the first 10 rows)\n")


def test_a_commune_list_needs_a_village_column(run):
    path = write_csv(run.tmp_path / "xa.csv", "Mã hộ,Chủ hộ,Phân loại\nNK01,Lò Văn Páo,nghèo\n")
    result = run("import-households", str(path), "--commune", "Mường Tè")
    assert result.code == 1
    assert "missing required column: «Thôn / Bản / Tổ dân phố / village»" in result.err


def test_wrong_sheet_and_a_sheet_without_a_header(run):
    book = _commune_book(run.tmp_path / "xa.xlsx")
    wrong = run("import-households", str(book), "--commune", "Mường Tè", "--sheet", "Sheet9")
    assert wrong.code == 1
    assert "no sheet named «Sheet9»; available sheets: «Hướng dẫn», «DS hộ»" in wrong.err
    guide = run("import-households", str(book), "--commune", "Mường Tè", "--sheet", "huong dan")
    assert guide.code == 1 and "missing required columns" in guide.err
    empty = Workbook()
    empty.active["A1"] = "nothing here"
    empty.save(run.tmp_path / "empty.xlsx")
    none = run("import-households", str(run.tmp_path / "empty.xlsx"), "--village", "Nà Khan")
    assert none.code == 1 and "no sheet has a household list header" in none.err
    right = run("import-households", str(book), "--commune", "Mường Tè", "--sheet", "ds ho",
                "--dry-run")
    assert right.code == 0, right.err


def test_the_area_must_be_a_village_or_have_villages(run):
    path = write_csv(run.tmp_path / "nk.csv", "Mã hộ,Chủ hộ,Phân loại\nNK01,Lò Văn Páo,nghèo\n")
    as_village = run("import-households", str(path), "--village", "Mường Tè")
    assert as_village.code == 1 and "use --commune" in as_village.err
    as_commune = run("import-households", str(path), "--commune", "Nà Khan")
    assert as_commune.code == 1 and "use --village" in as_commune.err
    unknown = run("import-households", str(path), "--village", "Không Có")
    assert unknown.code == 1 and "no area named «Không Có»" in unknown.err
    neither = run("import-households", str(path))
    assert neither.code == 2 and "--village" in neither.err
    bad_date = run("import-households", str(path), "--village", "Nà Khan", "--as-of", "5/11")
    assert bad_date.code == 2 and "YYYY-MM-DD" in bad_date.err


# --- listing -------------------------------------------------------------------------------------

def test_households_lists_a_village(run):
    empty = run("households", "Nà Khan")
    assert empty.code == 0 and "No households on record for" in empty.out
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    run("import-households", str(path), "--village", "Nà Khan", "--as-of", "2026-10-01")
    result = run("households", "Nà Khan")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (f"Households of Tỉnh Lai Châu › Xã Mường Tè › Bản Nà Khan "
                        f"(#{run.ids['Bản Nà Khan']}):")
    assert lines[1].split()[:4] == ["CODE", "HEAD", "OF", "HOUSEHOLD"]
    assert re.match(r"NK01\s+Lò Văn Páo\s+poor\s+2026-10-01\s+x\s+x$", lines[2])
    assert re.match(r"NK02\s+Lò Thị Mai\s+near_poor\s+2026-10-01\s+x\s+x$", lines[3])
    assert lines[-1].startswith("5 households: 2 poor, 1 near-poor, 2 average or other; "
                                "2 poor of an ethnic minority; 2 poor or near-poor with a loan")
    poor = run("households", "Nà Khan", "--status", "poor")
    assert "NK05" in poor.out and "NK02" not in poor.out
    commune = run("households", "Mường Tè")
    assert commune.code == 1 and "households belong to a Thôn" in commune.err


# --- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("title, field", [
    ("Mã hộ", "code"), ("MÃ HỘ (*)", "code"), ("code", "code"), ("Họ và tên chủ hộ", "head_name"),
    ("Ho ten chu ho", "head_name"), ("Head name", "head_name"), ("Phân loại hộ", "status"),
    ("Status", "status"), ("Thôn/Bản", "village"), ("DTTS", "ethnic_minority"),
    ("Dân tộc thiểu số", "ethnic_minority"), ("Dân tộc", "ethnicity"),
    ("Không có khả năng lao động", "no_work_capacity"), ("Người có công", "has_merit"),
    ("Vay vốn NHCSXH", "has_loan"), ("Vay vốn Ngân hàng Chính sách xã hội", "has_loan"),
    ("STT", None), ("Số CCCD", None), ("Ngày sinh", None),
])
def test_column_titles(title, field):
    assert hi.column_field(title) == field


@pytest.mark.parametrize("text, status", [
    ("nghèo", "poor"), ("Hộ nghèo", "poor"), ("HO NGHEO", "poor"), ("HN", "poor"),
    ("cận nghèo", "near_poor"), ("hộ cận nghèo", "near_poor"), ("can ngheo", "near_poor"),
    ("trung bình", "average"), ("Hộ có mức sống trung bình", "average"), ("khác", "other"),
    ("Khac", "other"), ("near poor", "near_poor"), ("giàu lắm", None), ("thoát nghèo", None),
])
def test_status_values(text, status):
    assert hi.parse_status(text) == status


def test_flag_values_and_id_columns():
    assert [hi.parse_flag(v) for v in ("x", "X", "có", "1", "yes", "", "0", "không", "no")] == [
        True, True, True, True, True, False, False, False, False]
    assert hi.parse_flag("maybe") is None
    assert [hi.parse_ethnicity(v) for v in ("Thái", "Kinh", "", "x", "7")] == [
        True, False, False, True, None]
    for title in ("Số CCCD", "CMND/CCCD", "Căn cước công dân", "Số định danh cá nhân",
                  "ID card number"):
        assert hi.looks_like_id_column(title), title
    assert not hi.looks_like_id_column("Mã hộ")


def test_every_import_change_is_audited_as_the_operator(run):
    path = write_csv(run.tmp_path / "nk.csv", VILLAGE_LIST)
    run("import-households", str(path), "--village", "Nà Khan")
    entries = run.query(lambda conn: audit.entries(conn, "household"))
    assert len(entries) == 5 and all(e["actor"].startswith("cli:") for e in entries)


def test_invisible_and_direction_characters_in_a_file_are_not_stored(run):
    # Cells copied from a chat or a web page carry marks nobody sees: a byte-order mark, a
    # right-to-left override, zero-width spaces, a NUL. What is stored is what is seen.
    path = write_csv(run.tmp_path / "marks.csv", (
        "Mã hộ;Họ và tên chủ hộ;Phân loại hộ\n"
        "\ufeffNK5;L\u200bò Văn\u202d Páo\u206d;Hộ nghèo\n"
        "\u202eNK021;Lò\x00 Thị \u200fMai;cận nghèo\n"
        "\u200fNK15;" + unicodedata.normalize("NFD", "Tao Văn Sinh") + ";Hộ nghèo\n"
    ))
    result = run("import-households", str(path), "--village", "Nà Khan", "--as-of",
                 "2026-10-01")
    assert result.code == 0, result.err
    got = households(run, "Bản Nà Khan")
    assert sorted(got) == ["NK021", "NK15", "NK5"]
    assert sorted(h.head_name for h in got.values()) == ["Lò Thị Mai", "Lò Văn Páo",
                                                         "Tao Văn Sinh"]
    for h in got.values():
        assert unseen(h.code + h.head_name) == [] and h.head_name == unicodedata.normalize(
            "NFC", h.head_name)


def test_invisible_characters_in_an_area_file_are_not_stored(run):
    roster = write_csv(run.tmp_path / "tree2.csv", (
        "Tỉnh,Xã,Thôn\n"
        "Lai Châu,Mường Tè,\u202eBản\u200b Mới\ufeff\n"
    ))
    assert run("import-areas", str(roster)).code == 0
    names = [a.name for a in run.all_areas()]
    assert "Bản Mới" in names
    assert all(unseen(n) == [] for n in names)

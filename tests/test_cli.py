"""The operator's command line (``python -m bot``), run through ``bot.cli.main`` on a temp DB."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot import cli, importer
from handlers.router import INVITE_ALPHABET
from storage import areas, audit, invites, people
from storage.audit import Actor
from storage.db import Database
from storage.reports import MONTHLY_FORM, save_report

ROOT = Path(__file__).resolve().parent.parent
SETUP = Actor(None, "test:setup")
FIGURES = {"total": 120, "poor": 15, "near_poor": 8, "exited": 2, "newly_poor": 1,
           "fallen_back": 0, "em_poor": 12, "loans": 10, "support_vnd": 5_000_000, "note": ""}


@dataclass
class Result:
    code: int
    out: str
    err: str


class Cli:
    """Runs ``python -m bot`` in-process on a temp config and database."""

    def __init__(self, tmp_path: Path, capsys, username: str = "giamngheo_test_bot"):
        self.tmp_path = tmp_path
        self.capsys = capsys
        self.config = tmp_path / "config.toml"
        self.db_path = tmp_path / "db.sqlite3"
        self.config.write_text(
            f'[database]\npath = "{self.db_path.name}"\n[telegram]\nusername = "{username}"\n',
            encoding="utf-8",
        )

    def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = cli.main(["--config", str(self.config), *argv])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def query(self, fn):
        """Run ``await fn(conn)`` on a read connection of the database."""

        async def go():
            db = await Database.open(self.db_path)
            try:
                async with db.read() as conn:
                    return await fn(conn)
            finally:
                await db.close()

        return asyncio.run(go())

    def write(self, fn):
        async def go():
            db = await Database.open(self.db_path)
            try:
                async with db.write() as conn:
                    return await fn(conn)
            finally:
                await db.close()

        return asyncio.run(go())

    def all_areas(self) -> list[areas.Area]:
        return self.query(lambda conn: areas.subtree(conn, None))

    def audit_log(self) -> list[dict]:
        return self.query(audit.entries)


@pytest.fixture
def run(tmp_path, capsys, monkeypatch):
    for var in ("GIAMNGHEO_DB", "GIAMNGHEO_CONFIG", "GIAMNGHEO_TELEGRAM_USERNAME",
                "GIAMNGHEO_TELEGRAM_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return Cli(tmp_path, capsys)


def write_csv(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- help ----------------------------------------------------------------------------------------

COMMANDS = sorted(cli.subcommands(cli.build_parser()))


def test_the_command_list_is_complete():
    assert set(COMMANDS) == {
        "run", "console", "migrate", "import-areas", "invite", "areas", "people", "invites",
        "reports", "audit", "import-households", "households", "calendar", "outbox",
        "health", "backup", "restore",
    }


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_and_option_has_help(command, run):
    parser = cli.build_parser()
    sub = cli.subcommands(parser)[command]
    assert sub.description, f"{command} has no description"
    choices = next(a for a in parser._actions if a.choices and command in a.choices)
    assert any(c.dest == command and c.help for c in choices._choices_actions)
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
    result = run(command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: python -m bot {command}")
    assert sub.description.split()[0] in result.out


def test_help_through_python_dash_m():
    for argv in (["--help"], ["import-areas", "--help"]):
        done = subprocess.run([sys.executable, "-m", "bot", *argv], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "usage: python -m bot" in done.stdout
    assert "--dry-run" in done.stdout


def test_usage_errors_exit_2_without_traceback(run):
    result = run("bogus")
    assert result.code == 2 and "invalid choice" in result.err
    result = run("invite", "--role", "king", "--area", "x")
    assert result.code == 2 and "Traceback" not in result.err
    result = run("reports", "x", "--period", "2026-13")
    assert result.code == 2 and "YYYY-MM" in result.err
    result = run("audit", "--id", "3")
    assert result.code == 2 and result.err.count("\n") == 1


def test_a_missing_config_file_is_one_clear_line(tmp_path, capsys):
    code = cli.main(["--config", str(tmp_path / "nope.toml"), "areas"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == f"error: config file not found: {tmp_path / 'nope.toml'}\n"


def test_several_wrong_settings_are_one_error_line_each(tmp_path, capsys):
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace("lock_day = 10", "lock_day = 40", 1)
    text = text.replace('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi"', 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    code = cli.main(["--config", str(path), "areas"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 1 and len(lines) == 2, lines
    assert all(line.startswith("error: setting ") for line in lines), lines
    assert any("lock_day" in line for line in lines) and any("Asia/Hanoi" in line
                                                             for line in lines)


# --- run and console hand over to bot.app ------------------------------------------------------

@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    module = types.ModuleType("bot.app")

    def fake_run(config, **kwargs):
        calls.append((config, kwargs))
        return 0

    module.run = fake_run
    monkeypatch.setitem(sys.modules, "bot.app", module)
    return calls


def test_no_command_runs_the_bot_in_auto_mode(run, fake_app):
    assert run().code == 0
    config, kwargs = fake_app[-1]
    assert kwargs == {"mode": "auto"}
    assert config.db_path == run.db_path
    run("run", "--console")
    assert fake_app[-1][1] == {"mode": "console"}
    run("run", "--telegram")
    assert fake_app[-1][1] == {"mode": "telegram"}
    assert run("run", "--console", "--telegram").code == 2


def test_console_passes_person_demo_and_script(run, fake_app):
    run("console", "--as", "truong-thon", "--reset-demo", "--script", "chat.txt")
    assert fake_app[-1][1] == {"mode": "console", "person": "truong-thon", "demo": True,
                               "reset_demo": True, "script": "chat.txt"}
    run("console", "--script")
    assert fake_app[-1][1] == {"mode": "console", "person": None, "demo": None,
                               "reset_demo": False, "script": "-"}


# --- migrate -------------------------------------------------------------------------------------

def test_migrate_lists_the_applied_migrations(run):
    first = run("migrate")
    assert first.code == 0
    assert "m001_initial" in first.out and "applied now" in first.out
    second = run("migrate")
    assert "up to date" in second.out and "applied now" not in second.out


# --- import-areas --------------------------------------------------------------------------------

def test_import_csv_with_codes(run):
    # BOM, ';' separators, a title row, a blank line, an extra column, a code whose leading
    # zero Excel dropped, a commune name spelled differently from the official one.
    roster = write_csv(run.tmp_path / "roster.csv", (
        "Danh sách thôn, bản tỉnh Lai Châu;;;;\n"
        "Tỉnh;Mã xã;Xã/Phường;Thôn/Bản/Tổ dân phố;Ghi chú\n"
        "(1);(2);(3);(4);(5)\n"
        "Lai Châu;03445;xa muong te;Bản Nà Khan;mới\n"
        "\n"
        "Lai Châu;3445;Mường Tè;Bản Pa Ủ;\n"
        "12;03388;;Tổ dân phố số 1;\n"
    ))
    result = run("import-areas", str(roster))
    assert result.code == 0, result.err
    assert "header on row 2" in result.out
    got = {a.name: a for a in run.all_areas()}
    assert set(got) == {"Tỉnh Lai Châu", "Xã Mường Tè", "Bản Nà Khan", "Bản Pa Ủ",
                        "Phường Đoàn Kết", "Tổ dân phố số 1"}
    assert (got["Tỉnh Lai Châu"].level, got["Tỉnh Lai Châu"].code) == ("province", "12")
    assert (got["Xã Mường Tè"].level, got["Xã Mường Tè"].code) == ("commune", "03445")
    assert not got["Xã Mường Tè"].urban and not got["Bản Nà Khan"].urban
    assert got["Phường Đoàn Kết"].urban and got["Tổ dân phố số 1"].urban  # inherited
    assert got["Bản Pa Ủ"].parent_id == got["Xã Mường Tè"].id
    assert re.search(r"villages \(Thôn\)\s+3\s+0", result.out)


def test_import_csv_with_names_only(run):
    roster = write_csv(run.tmp_path / "roster.csv", (
        "xa,thon,thanh thi\n"
        "Tân Lập,Ấp 1,\n"
        "xa tan lap,Ấp 2,1\n"
        "Xã Tân Lập,Ấp 3,không\n"
    ), encoding="utf-8")
    result = run("import-areas", str(roster), "--province-code", "80")
    assert result.code == 0, result.err
    got = {a.name: a for a in run.all_areas()}
    commune = got["Xã Tân Lập"]
    assert commune.code == "25489"
    assert got["Tỉnh Tây Ninh"].code == "80"
    assert [got[f"Ấp {i}"].parent_id for i in (1, 2, 3)] == [commune.id] * 3
    assert [got[f"Ấp {i}"].urban for i in (1, 2, 3)] == [False, True, False]


def test_a_roster_without_province_needs_province_code(run):
    roster = write_csv(run.tmp_path / "r.csv", "Xã,Thôn\nTân Lập,Ấp 1\n")
    result = run("import-areas", str(roster))
    assert result.code == 1
    assert "missing required column: «Tỉnh / province»" in result.err
    assert "--province-code" in result.err


def test_a_missing_required_column_is_named(run):
    roster = write_csv(run.tmp_path / "r.csv", "Tỉnh;Xã;Ghi chú\nLai Châu;Mường Tè;x\n")
    result = run("import-areas", str(roster))
    assert result.code == 1
    assert result.err.startswith("error: r.csv: missing required column:")
    assert "Thôn / Bản / Tổ dân phố / village" in result.err
    assert "Traceback" not in result.err


def _workbook(path: Path) -> Path:
    book = Workbook()
    notes = book.active
    notes.title = "Hướng dẫn"
    notes["A1"] = "Điền danh sách thôn ở trang sau"
    sheet = book.create_sheet("Danh sách")
    sheet["A1"] = "DANH SÁCH THÔN, BẢN, TỔ DÂN PHỐ"
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["STT", "Tỉnh", "Xã", "Thôn/Bản", "Thành thị"])
    sheet.append([1, "Lai Châu", "Mường Tè", "Bản Nà Khan", None])
    sheet.append([2, "Lai Châu", None, "Bản Pa Ủ", None])
    sheet.append([3, "Lai Châu", None, "Bản Mới", "x"])
    sheet.merge_cells("C4:C6")  # the commune written once for its three villages
    sheet.append([4, "Lai Châu", "Bum Nưa", "Bản Nậm Củm", None])
    sheet.append([None, None, None, None, None])
    book.save(path)
    return path


def test_import_xlsx_with_title_row_merged_cells_and_two_sheets(run):
    book = _workbook(run.tmp_path / "roster.xlsx")
    result = run("import-areas", str(book))
    assert result.code == 0, result.err
    assert "sheet «Danh sách»" in result.out and "header on row 3" in result.out
    got = {a.name: a for a in run.all_areas()}
    muong_te = got["Xã Mường Tè"]
    assert [got[v].parent_id for v in ("Bản Nà Khan", "Bản Pa Ủ", "Bản Mới")] == [muong_te.id] * 3
    assert got["Bản Mới"].urban and not got["Bản Pa Ủ"].urban
    assert got["Bản Nậm Củm"].parent_id == got["Xã Bum Nưa"].id


def test_xlsx_sheet_choice(run):
    book = _workbook(run.tmp_path / "roster.xlsx")
    wrong = run("import-areas", str(book), "--sheet", "Sheet9")
    assert wrong.code == 1
    assert "no sheet named «Sheet9»" in wrong.err
    assert "«Hướng dẫn», «Danh sách»" in wrong.err
    notes = run("import-areas", str(book), "--sheet", "Huong dan")
    assert notes.code == 1 and "missing required column" in notes.err
    right = run("import-areas", str(book), "--sheet", "danh sach", "--dry-run")
    assert right.code == 0, right.err


def test_unreadable_files_give_one_clear_line(run):
    old = run.tmp_path / "roster.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert run("import-areas", str(old)).err == (
        "error: roster.xls: old Excel format (.xls); save it as .xlsx or CSV\n"
    )
    assert "file not found" in run("import-areas", str(run.tmp_path / "none.csv")).err
    csv_file = write_csv(run.tmp_path / "r.csv", "Tỉnh,Xã,Thôn\n")
    assert "--sheet only applies" in run("import-areas", str(csv_file), "--sheet", "x").err


def test_bad_rows_are_listed_and_nothing_is_imported(run):
    roster = write_csv(run.tmp_path / "roster.csv", (
        "Tỉnh,Xã,Mã xã,Thôn,Thành thị\n"
        "Lai Châu,Mường Tè,,Bản Nà Khan,\n"      # 2: good
        "Lai Châu,Không Có,,Bản A,\n"            # 3: unknown commune
        "Thanh Hóa,dong tien,,Thôn B,\n"         # 4: ambiguous without diacritics
        "Lai Châu,Mường Tè,,,\n"                 # 5: no village
        "Yên Bái,Xã A,,Thôn C,\n"                # 6: province merged away in 2025
        "Lai Châu,,99999,Bản D,\n"               # 7: unknown code
        "Lai Châu,,25489,Bản E,\n"               # 8: code of another province
        "Lai Châu,Mường Tè,,Bản F,maybe\n"       # 9: urban flag not understood
        "Thanh Hóa,Xã Đồng Tiến,,Thôn G,\n"      # 10: good (diacritics tell them apart)
    ), encoding="utf-8")
    result = run("import-areas", str(roster))
    assert result.code == 1
    lines = result.err.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"row {n}" for n in (3, 4, 5, 6, 7, 8, 9)
    ]
    assert "unknown commune «Không Có» in Tỉnh Lai Châu" in lines[0]
    assert "Xã Đồng Tiến (15724)" in lines[1] and "Phường Đông Tiến (15853)" in lines[1]
    assert "no village name" in lines[2]
    assert "unknown province «Yên Bái»" in lines[3]
    assert "unknown commune code 99999" in lines[4]
    assert "is in Tỉnh Tây Ninh, not Tỉnh Lai Châu" in lines[5]
    assert "urban flag «maybe»" in lines[6]
    assert lines[-1] == "error: 7 bad rows; nothing was imported"
    assert run.all_areas() == []
    assert run.audit_log() == []


def test_a_conflict_with_the_database_imports_nothing(run):
    async def squat(conn):
        prov = await areas.add_area(conn, parent=None, level="province", name="Tỉnh Lai Châu",
                                    code="12", actor=SETUP, at=datetime.now(UTC))
        await areas.add_area(conn, parent=prov, level="commune", name="Xã Mường Tè",
                             code="99999", actor=SETUP, at=datetime.now(UTC))

    run.write(squat)
    roster = write_csv(run.tmp_path / "r.csv",
                       "Tỉnh,Xã,Thôn\nLai Châu,Bum Nưa,Bản A\nLai Châu,Mường Tè,Bản B\n")
    result = run("import-areas", str(roster))
    assert result.code == 1
    assert result.err.startswith("row 3: an area named «Xã Mường Tè»")
    assert {a.name for a in run.all_areas()} == {"Tỉnh Lai Châu", "Xã Mường Tè"}


def test_dry_run_changes_nothing(run):
    roster = write_csv(run.tmp_path / "r.csv", "Tỉnh,Xã,Thôn\nLai Châu,Mường Tè,Bản Nà Khan\n")
    result = run("import-areas", str(roster), "--dry-run")
    assert result.code == 0
    assert "Dry run: nothing was changed" in result.out
    assert "create Thôn: Tỉnh Lai Châu › Xã Mường Tè › Bản Nà Khan" in result.out
    assert run.all_areas() == []
    assert run.audit_log() == []


def test_reimport_is_idempotent(run):
    book = _workbook(run.tmp_path / "roster.xlsx")
    assert run("import-areas", str(book)).code == 0
    before_areas, before_log = run.all_areas(), run.audit_log()
    again = run("import-areas", str(book))
    assert again.code == 0
    assert re.search(r"villages \(Thôn\)\s+0\s+4", again.out)
    assert "Nothing new" in again.out
    assert run.all_areas() == before_areas
    assert run.audit_log() == before_log


def test_reimport_with_a_changed_urban_flag_updates_and_audits(run):
    roster = write_csv(run.tmp_path / "r.csv",
                       "Tỉnh,Xã,Thôn,Thành thị\nLai Châu,Mường Tè,Bản A,\n")
    run("import-areas", str(roster))
    write_csv(roster, "Tỉnh,Xã,Thôn,Thành thị\nLai Châu,Mường Tè,Bản A,có\n")
    result = run("import-areas", str(roster))
    assert result.code == 0 and "1 village(s) updated" in result.out
    village = next(a for a in run.all_areas() if a.name == "Bản A")
    assert village.urban
    last = run.audit_log()[-1]
    assert (last["action"], last["entity_id"], last["after"]) == (
        "update", str(village.id), {"urban": True}
    )


# --- invite --------------------------------------------------------------------------------------

@pytest.fixture
def tree(run):
    """Lai Châu with two communes, each with a «Bản Mới»."""
    roster = write_csv(run.tmp_path / "tree.csv", (
        "Tỉnh,Xã,Thôn\n"
        "Lai Châu,Mường Tè,Bản Nà Khan\n"
        "Lai Châu,Mường Tè,Bản Mới\n"
        "Lai Châu,Bum Nưa,Bản Mới\n"
    ))
    assert run("import-areas", str(roster)).code == 0
    return {(a.name, a.parent_id): a for a in run.all_areas()}


def _codes(out: str) -> list[str]:
    return [m.replace("-", "") for m in re.findall(r"Code:\s+(\w{5}-\w{5})", out)]


def test_invite_prints_a_link_and_the_code_works(run, tree):
    result = run("invite", "--role", "village_head", "--area", "ban na khan",
                 "--name", "Lò Văn Páo", "--days", "3")
    assert result.code == 0, result.err
    (code,) = _codes(result.out)
    # Ten characters of 31 (31¹⁰ ≈ 8·10¹⁴): guessing hopeless with the throttles (README).
    assert len(code) == 10 and set(code) <= set(INVITE_ALPHABET)
    assert f"https://t.me/giamngheo_test_bot?start={code}" in result.out
    shown = f"{code[:5]}-{code[5:]}"
    assert f"Gửi /start {shown} cho bot @giamngheo_test_bot" in result.out
    invite = run.query(lambda conn: invites.get_invite(conn, code))
    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")
    assert (invite.role, invite.area_id, invite.full_name, invite.used_at) == (
        "village_head", village.id, "Lò Văn Páo", None
    )
    left = invite.expires_at - datetime.now(UTC)
    assert timedelta(days=2, hours=23) < left <= timedelta(days=3)


def test_invite_several_codes_and_no_username(run, tree):
    run.config.write_text(f'[database]\npath = "{run.db_path.name}"\n', encoding="utf-8")
    result = run("invite", "--role", "officer", "--area", "Xã Mường Tè", "--count", "3")
    assert result.code == 0, result.err
    codes = _codes(result.out)
    assert len(set(codes)) == 3
    assert "https://t.me" not in result.out
    assert result.out.count("GIAMNGHEO_TELEGRAM_USERNAME") == 1
    assert all(run.query(lambda conn, c=c: invites.get_invite(conn, c)) for c in codes)


def test_an_ambiguous_area_fails_and_lists_candidates(run, tree):
    result = run("invite", "--role", "village_head", "--area", "Ban Moi")
    assert result.code == 1
    assert result.err.startswith("error: area «Ban Moi» is ambiguous")
    assert "Tỉnh Lai Châu › Xã Mường Tè › Bản Mới" in result.err
    assert "Tỉnh Lai Châu › Xã Bum Nưa › Bản Mới" in result.err
    assert run.query(invites.list_invites) == []
    by_path = run("invite", "--role", "village_head", "--area", "Bum Nua/Ban Moi")
    assert by_path.code == 0, by_path.err
    assert "Xã Bum Nưa › Bản Mới" in by_path.out
    village = next(a for a in tree.values() if a.name == "Bản Mới")
    assert run("invite", "--role", "village_head", "--area", f"#{village.id}").code == 0


def test_village_heads_are_invited_to_villages_only(run, tree):
    result = run("invite", "--role", "village_head", "--area", "Mường Tè")
    assert result.code == 1
    assert "must be a Thôn (village)" in result.err
    assert "no area named «Nowhere»" in run("invite", "--role", "officer",
                                              "--area", "Nowhere").err
    # "12" is both a province code and (maybe) an id: the code:/# forms settle it.
    assert run("invite", "--role", "officer", "--area", "code:12").code == 0
    assert "of Tỉnh Lai Châu › Xã Mường Tè (#" in run("invite", "--role", "officer",
                                                      "--area", "03445").out


# --- listings ------------------------------------------------------------------------------------

def test_areas_tree_levels_and_filters(run, tree):
    result = run("areas")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("#") and "Tỉnh Lai Châu  [Tỉnh, code 12, rural]" in lines[0]
    assert any(line.startswith("  #") and "Xã Mường Tè  [Xã, code 03445" in line
               for line in lines)
    assert any(line.startswith("    #") and "Bản Nà Khan  [Thôn, rural]" in line
               for line in lines)
    villages = run("areas", "--level", "thon", "--under", "Bum Nưa")
    assert villages.out.splitlines()[0].endswith("in Tỉnh Lai Châu › Xã Bum Nưa")
    assert "1 area(s) of level Thôn" in villages.out
    assert run("areas", "--level", "hamlet").code == 2


def test_people_lists_roles_and_identities(run, tree):
    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")

    async def enrol(conn):
        at = datetime.now(UTC)
        pid = await people.create_person(conn, "Lò Văn Páo", actor=SETUP, at=at)
        await people.link_identity(conn, pid, channel="telegram", external_id="100",
                                   chat_id="100", display_name="Páo", actor=SETUP, at=at)
        await people.grant_role(conn, pid, "village_head", village, actor=SETUP, at=at)
        return pid

    pid = run.write(enrol)
    result = run("people")
    assert result.code == 0
    assert f"#{pid}  Lò Văn Páo" in result.out
    assert "identities: telegram:100" in result.out
    assert "village_head of Bản Nà Khan (Thôn)" in result.out
    assert "Nobody" in run("people", "--under", "Bum Nưa").out


def test_invites_show_their_state(run, tree):
    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")

    async def make(conn):
        at = datetime.now(UTC)
        for code, expires in (("AAAABBBB", at + timedelta(days=1)),
                              ("CCCCDDDD", at - timedelta(days=1)),
                              ("EEEEFFFF", at + timedelta(days=1))):
            await invites.create_invite(conn, code=code, role="village_head",
                                        area_id=village.id, full_name="", expires_at=expires,
                                        actor=SETUP, at=at - timedelta(days=2))
        pid = await people.create_person(conn, "Người dùng", actor=SETUP, at=at)
        await invites.claim_invite(conn, "EEEEFFFF", pid, actor=SETUP, at=at)

    run.write(make)
    out = run("invites").out
    states = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert states == {"AAAA-BBBB": "unused", "CCCC-DDDD": "expired", "EEEE-FFFF": "used"}


def test_reports_show_every_version_newest_first(run, tree):
    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")

    async def submit(conn):
        at = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
        pid = await people.create_person(conn, "Lò Văn Páo", actor=SETUP, at=at)
        actor = Actor(pid, "telegram:100")
        for period, poor, via, later in (("2026-09", 16, "telegram", 0),
                                         ("2026-10", 15, "telegram", 1),
                                         ("2026-10", 14, "zalo", 2)):
            await save_report(conn, area_id=village.id, form=MONTHLY_FORM, period=period,
                              data={**FIGURES, "poor": poor}, actor=actor, via=via,
                              at=at + timedelta(hours=later))

    run.write(submit)
    result = run("reports", "Bản Nà Khan")
    assert result.code == 0, result.err
    out = result.out
    assert out.index("2026-10") < out.index("2026-09")
    assert out.index("v2  2026-11-03 11:00  by Lò Văn Páo") < out.index("v1  2026-11-03 10:00")
    assert "via zalo" in out and "via telegram" in out
    assert "total=120, poor=14, near_poor=8" in out
    assert "poor=15" in out and "poor=16" in out
    only = run("reports", "na khan", "--period", "9/2026").out
    assert "2026-09" in only and "2026-10" not in only
    assert "No monthly reports for 2026-01" in run("reports", "na khan", "--period",
                                                  "2026-01").out


def test_every_change_is_in_the_audit_log(run, tree):
    log = run.audit_log()
    created = {int(e["entity_id"]) for e in log if (e["entity"], e["action"]) == ("area",
                                                                                  "create")}
    assert created == {a.id for a in tree.values()}
    assert {e["actor"] for e in log} == {cli.cli_actor().label}
    assert cli.cli_actor().label.startswith("cli:")
    (code,) = _codes(run("invite", "--role", "officer", "--area", "Lai Châu").out)
    entry = run.audit_log()[-1]
    assert (entry["entity"], entry["entity_id"], entry["action"]) == ("invite", code, "create")
    shown = run("audit", "--entity", "invite", "--id", code)
    assert shown.code == 0
    assert f"create invite {code}" in shown.out and '"role": "officer"' in shown.out
    latest = run("audit", "--limit", "1").out
    assert latest.startswith(f"#{entry['id']}") and latest.count("\n#") == 0
    areas_only = run("audit", "--entity", "area", "--limit", "100").out
    assert areas_only.count("create area") == len(tree)


# --- importer units ------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "field"), [
    ("Tỉnh", "province"), ("PROVINCE", "province"), ("Tỉnh/Thành phố", "province"),
    ("Xã", "commune"), ("Phường", "commune"), ("Xã/Phường", "commune"), ("commune", "commune"),
    ("Thôn", "village"), ("Bản", "village"), ("Tổ dân phố", "village"), ("village", "village"),
    ("Tên thôn/bản", "village"), ("Thôn (bản)*", "village"),
    ("Mã xã", "commune_code"), ("commune_code", "commune_code"),
    ("Thành thị", "urban"), ("urban", "urban"), ("STT", None), ("Ghi chú", None),
])
def test_column_titles(title, field):
    assert importer.column_field(title) == field


def test_official_list_matching():
    assert (importer.ADMIN_UNITS.parent / "NOTICE.md").is_file()  # the licence travels with it
    units = importer.AdminUnits.load()
    assert len(units.provinces) == 34 and len(units.communes) == 3321
    lai_chau = units.province("tinh lai chau")
    assert lai_chau == units.province("12") == units.province("Lai Châu")
    assert units.province("TP. HCM").code == "79"
    for name in ("Mường Tè", "xa muong te", "Xã Mường Tè", "XÃ MƯỜNG TÈ"):
        assert units.commune(lai_chau, name).code == "03445"
    assert units.commune(lai_chau, "Đoàn Kết").urban
    assert units.commune_by_code("3445").name == "Xã Mường Tè"
    thanh_hoa = units.province("Thanh Hóa")
    assert "ambiguous" in units.commune(thanh_hoa, "dong tien")
    assert units.commune(thanh_hoa, "Đông Tiến").code == "15853"


def test_urban_values():
    assert [importer.parse_urban(v) for v in ("", "x", "Có", "1", "0", "không", "nông thôn")] \
        == [None, True, True, True, False, False, False]
    assert "not understood" in importer.parse_urban("hmm")


def test_calendar_lists_the_year_and_checks_overrides(run, tree):
    result = run("calendar", "--year", "2027")
    assert result.code == 0, result.err
    assert "2027-11-20 08:00  reminder to those who have not filed  Báo cáo tổng kết năm 2027" \
        " (village, due 20/11/2027)" in result.out
    assert "2027-10-17 08:00  notice to everyone" in result.out
    assert "84 events in 2027; 0 area overrides; quiet hours 21:00–07:00" in result.out
    run.config.write_text(run.config.read_text(encoding="utf-8")
                          + '[[calendar.overrides]]\narea = "Xã Không Có"\n', encoding="utf-8")
    bad = run("calendar")
    assert bad.code == 1 and "calendar.overrides[0].area" in bad.err


def test_outbox_shows_campaigns_and_their_messages(run, tree):
    from common.messages import Outbound
    from storage.outbox import Planned, create_campaign

    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")
    at = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)

    async def plan(conn):
        pid = await people.create_person(conn, "Lò Văn Páo", actor=SETUP, at=at)
        await people.grant_role(conn, pid, "village_head", village, actor=SETUP, at=at)
        await create_campaign(conn, key="remind:test", kind="remind", title="Nhắc báo cáo",
                              messages=[Planned(pid, Outbound("⏰"))], not_before=at, at=at)

    run.write(plan)
    listed = run("outbox")
    assert listed.code == 0 and "remind  Nhắc báo cáo  -         1      0     1" in listed.out
    one = run("outbox", "--campaign", "remind:test")
    assert "Campaign #1 remind:test (remind)" in one.out and "Lò Văn Páo  pending" in one.out
    assert run("outbox", "--campaign", "99").code == 1


def test_outbox_and_audit_say_what_they_leave_out_and_who_asked(run, tree):
    from common.messages import Outbound
    from storage.outbox import Planned, create_campaign

    village = next(a for a in tree.values() if a.name == "Bản Nà Khan")
    at = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)

    async def plan(conn):
        officer = await people.create_person(conn, "Nguyễn Thị Hoa", actor=SETUP, at=at)
        heads = [await people.create_person(conn, f"Người {i}", actor=SETUP, at=at)
                 for i in range(5)]
        await create_campaign(conn, key="remind_again:x", kind="remind_again", title="Nhắc",
                              messages=[Planned(p, Outbound("⏰")) for p in heads],
                              not_before=at, at=at, requested_by=officer, area_id=village.id)
        await create_campaign(conn, key="remind:y", kind="remind", title="Nhắc lịch",
                              messages=[Planned(heads[0], Outbound("⏰"))], not_before=at,
                              at=at)

    run.write(plan)
    listed = run("outbox", "--limit", "1")
    assert "Nhắc lịch" in listed.out
    assert "… 1 more campaign(s): use --limit 2 or more" in listed.out
    assert "Nguyễn Thị Hoa" in run("outbox").out  # who asked for «Nhắc lại»
    one = run("outbox", "--campaign", "remind_again:x", "--limit", "3")
    assert "asked by Nguyễn Thị Hoa" in one.out
    assert one.out.count("pending") == 3 and "… 2 more message(s): use --limit 5" in one.out
    audit = run("audit", "--limit", "2")
    assert "more entries: use --limit" in audit.out


@pytest.mark.parametrize("area", ["²", "①", "1²", "٣"])
def test_an_area_given_as_digits_nobody_types_is_refused_with_a_sentence(run, tree, area):
    result = run("invite", "--role", "officer", "--area", area)
    assert result.code == 1 and result.err.startswith("error: no area"), result.err

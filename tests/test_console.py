"""The console channel and the app wiring: scripted chats on the demo, personas, rendering."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from bot import app, demo
from bot.channels import console
from common.config import TelegramConfig, load_config, replace
from common.messages import Option, Outbound
from handlers.core import Core
from storage import audit, people
from storage.db import Database
from storage.migrations import MIGRATIONS
from storage.reports import MONTHLY_FORM, current_report

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 5)  # as the clock fixture: 09:00 on 5 Nov 2026 in Vietnam



@pytest.fixture
async def demo_core(demo_file, tmp_path, config, clock):
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_file, path)
    database = await Database.open(path)
    yield Core(database, config, clock)
    await database.close()


async def chat(core, lines: str, *, who: str | None = "truong-thon", scripted=True,
               out_dir: Path | None = None) -> tuple[int, str]:
    """Run a console session over ``lines``; return the exit status and the transcript."""
    out = io.StringIO()
    status = await console.run_console(
        core, who=who, scripted=scripted, stdin=io.StringIO(textwrap.dedent(lines)),
        stdout=out, out_dir=out_dir,
    )
    return status, out.getvalue()


async def village(core, name="Bản Nà Khan"):
    async with core.db.read() as conn:
        async with conn.execute("SELECT id FROM areas WHERE name = ?", (name,)) as cur:
            (area_id,) = await cur.fetchone()
    return area_id


# ---- rendering ----------------------------------------------------------------------------


def test_free_input_options_are_typed_shortcuts_on_one_line():
    message = Outbound("(2/10) Số hộ nghèo hiện nay?", (
        Option("Giữ nguyên (120)", "x.keep"), Option("0 (không có)", "x.zero"),
        Option("❌ Hủy", "x.cancel")), free_input=True)
    assert console.render(message) == (
        "(2/10) Số hộ nghèo hiện nay?\n[Giữ nguyên (120)] [0 (không có)] [❌ Hủy]")


def test_closed_options_are_a_numbered_list_never_numbered_twice():
    summary = Outbound("Gửi báo cáo này?", (Option("✅ Gửi", "send"), Option("✏️ Sửa", "fix")),
                       free_input=False)
    assert console.render(summary) == "Gửi báo cáo này?\n1. ✅ Gửi\n2. ✏️ Sửa"
    fix = Outbound("Sửa mục nào?", (Option("1. Tổng số hộ", "fix:1"), Option("❌ Hủy", "c")),
                   free_input=False)
    assert console.render(fix) == "Sửa mục nào?\n1. Tổng số hộ\n2. ❌ Hủy"


def test_images_and_documents_are_written_to_a_folder(tmp_path):
    files = console.FileSink(tmp_path / "out")
    text = console.render_all([
        Outbound("Biểu đồ", image=b"\x89PNG fake"),
        Outbound("Bảng tổng hợp", document=b"PK xlsx", filename="../bao cao.xlsx"),
    ], files)
    written = sorted((tmp_path / "out").iterdir())
    assert [p.read_bytes() for p in written] == [b"\x89PNG fake", b"PK xlsx"]
    assert written[1].name.endswith("bao_cao.xlsx")
    assert f"Ảnh đã lưu tại: {written[0]}" in text and f"Tệp đã lưu tại: {written[1]}" in text
    assert "Biểu đồ" in text and "Bảng tổng hợp" in text


# ---- scripted sessions on the demo ---------------------------------------------------------


async def test_village_head_files_a_whole_report_by_typing(demo_core):
    area_id = await village(demo_core)
    async with demo_core.db.read() as conn:
        prev = (await current_report(conn, area_id, MONTHLY_FORM, "2026-09")).data
        assert await current_report(conn, area_id, MONTHLY_FORM, "2026-10") is None
    poor = prev["poor"] - 1
    em_poor = min(prev["em_poor"], poor)
    loans = min(prev["loans"], poor + prev["near_poor"])
    status, out = await chat(demo_core, f"""\
        /baocao
        {prev["total"] + 1}
        {poor}
        giu nguyen
        1
        0
        khong
        {em_poor}
        {loans}
        2tr
        Họp thôn bình xét, 1 hộ thoát nghèo
        gửi
        """)
    assert status == 0
    assert out.startswith("⚠️ DEMO")
    assert "Bạn đang là: Lò Văn Páo (Trưởng thôn — Bản Nà Khan)" in out
    assert "> /baocao\n📝 Báo cáo tháng 10/2026 — Bản Nà Khan." in out
    assert f"[Giữ nguyên ({prev['total']})] [📅 Đổi tháng] [❌ Hủy]" in out
    assert "[0 (không có)] [❌ Hủy]" in out
    assert "[✅ Gửi] [✏️ Sửa] [❌ Hủy]" in out
    assert "✅ Đã lưu báo cáo tháng 10/2026 của Bản Nà Khan (phiên bản 1)" in out
    assert "⚠️" not in out.split("\n", 1)[1]  # no warning: the figures balance
    async with demo_core.db.read() as conn:
        saved = await current_report(conn, area_id, MONTHLY_FORM, "2026-10")
    assert saved.submitted_via == "console" and saved.submitted_by_name == "Lò Văn Páo"
    assert saved.data == {
        "total": prev["total"] + 1, "poor": poor, "near_poor": prev["near_poor"], "exited": 1,
        "newly_poor": 0, "fallen_back": 0, "em_poor": em_poor, "loans": loans,
        "support_vnd": 2_000_000, "note": "Họp thôn bình xét, 1 hộ thoát nghèo",
    }


async def test_numbered_lists_are_answered_by_number(demo_core):
    area_id = await village(demo_core)
    async with demo_core.db.read() as conn:
        total = (await current_report(conn, area_id, MONTHLY_FORM, "2026-09")).data["total"] + 2
    status, out = await chat(demo_core, f"""\
        /baocao
        giu nguyen
        giữ nguyên
        Giu nguyen
        0 (khong co)
        0
        0
        gn
        gn
        0
        bo qua
        sua
        1
        {total}
        gui
        """)
    assert status == 0
    assert "> sua\nSửa mục nào? Chọn hoặc gõ số thứ tự của mục.\n1. Tổng số hộ\n2. Hộ nghèo" in out
    assert "1. 1." not in out
    assert "> 1\n(1/10) Tổng số hộ" in out
    assert f"1. Tổng số hộ: {total}" in out
    assert "(phiên bản 1)" in out
    async with demo_core.db.read() as conn:
        saved = await current_report(conn, area_id, MONTHLY_FORM, "2026-10")
    assert saved.data["total"] == total and saved.data["note"] == ""


async def test_stranger_is_told_how_to_enrol_then_enrols_with_the_demo_code(demo_core):
    status, out = await chat(demo_core, """\
        # a comment line, printed as it is
        /baocao

        xin chao
        MUNG-TE25
        lò thị mai
        1
        /toi
        """, who="khach")
    assert status == 0
    assert "Bạn đang là người lạ, chưa đăng ký (danh tính console: khach-" in out
    assert "# a comment line, printed as it is\n> /baocao\n" in out
    before_code = out.split("> MUNG-TE25")[0]
    assert before_code.count("Bạn chưa được đăng ký") == 2 and "mã mời" in before_code
    assert "Bản Nà Khan" not in before_code
    assert "Mã mời hợp lệ:\n• Trưởng thôn — Bản Huổi Lếch\nBạn tên là gì?" in out
    assert "Chào mừng Lò Thị Mai! Bạn đã được đăng ký:\n• Trưởng thôn — Bản Huổi Lếch" in out
    assert "> 1\n📝 Báo cáo tháng 10/2026 — Bản Huổi Lếch" in out  # the welcome's menu
    assert "Người lạ" not in out.split("> MUNG-TE25")[1]


async def test_switching_persona_mid_script(demo_core):
    status, out = await chat(demo_core, """\
        /toi
        /as can-bo-xa
        /toi
        /as ai-do-khong-co
        /as
        /quit
        /toi
        """)
    assert status == 0
    first, second = out.split("> /as can-bo-xa")
    assert "Bạn là Lò Văn Páo." in first
    assert "Bạn đang là: Nguyễn Thị Hoa (Cán bộ — Xã Mường Tè)" in second
    assert "Bạn là Nguyễn Thị Hoa." in second
    assert "Không tìm thấy người «ai-do-khong-co»" in second
    assert "Gõ /as rồi tên vai trò" in second
    assert second.rstrip().endswith("> /quit")  # nothing after /quit runs


async def test_role_keywords_ids_and_identities(demo_core):
    expected = {
        "truong-thon": "Lò Văn Páo", "village_head": "Lò Văn Páo",
        "can-bo-xa": "Nguyễn Thị Hoa", "officer": "Nguyễn Thị Hoa",
        "can-bo-tinh": "Trần Văn Minh", "Cán bộ tỉnh": "Trần Văn Minh",
        "admin": "Lê Quang Huy", "chu-hu-xa": "Chu Hừ Xá",
    }
    for who, name in expected.items():
        persona = await console.resolve_persona(demo_core, who)
        assert persona.name == name, who
        assert persona.sender_id == demo.identity_of(name)
    head = await console.resolve_persona(demo_core, "truong-thon")
    by_id = await console.resolve_persona(demo_core, str(head.person_id))
    assert by_id == head
    stranger = await console.resolve_persona(demo_core, "khach")
    assert stranger.person_id is None and stranger.sender_id.startswith("khach-")
    for nobody in ("999", "nobody"):
        with pytest.raises(console.PersonaError):
            await console.resolve_persona(demo_core, nobody)
    status, out = await chat(demo_core, "/toi\n", who="nobody")
    assert status == 2 and "Không tìm thấy người «nobody»" in out


async def test_interactive_session_asks_who_you_are(demo_core):
    status, out = await chat(demo_core, "1\n/toi\n", who=None, scripted=False)
    assert status == 0
    assert out.startswith("=== Trợ lý báo cáo giảm nghèo")
    assert "⚠️ DEMO" in out and "MUNG-TE25" in out
    assert "1. Lò Văn Páo — Trưởng thôn — Bản Nà Khan" in out
    assert "4. Lê Quang Huy — Quản trị viên — Tỉnh Lai Châu (DEMO)" in out
    assert "5. Người lạ (chưa đăng ký)" in out
    assert "> Bạn đang là: Lò Văn Páo" in out  # the answer is typed after the prompt
    assert "Bạn là Lò Văn Páo." in out
    assert out.rstrip().endswith("Tạm biệt!")  # Ctrl-D


async def test_interactive_choice_asks_again_and_quits(demo_core):
    status, out = await chat(demo_core, "9\n/quit\n", who=None, scripted=False)
    assert status == 0
    assert "Vui lòng gõ một số từ 1 đến 5" in out and out.rstrip().endswith("Tạm biệt!")


# ---- the real database ---------------------------------------------------------------------


async def test_real_database_needs_as_in_scripts(core, world):
    status, out = await chat(core, "/toi\n", who=None)
    assert status == 2 and "--as" in out and "DEMO" not in out


async def test_person_without_console_identity_gets_one(core, db, world):
    status, out = await chat(core, "/toi\n", who=str(world.officer_id))
    assert status == 0
    assert f"danh tính console: p{world.officer_id}" in out and "Bạn là Nguyễn Thị Hoa." in out
    async with db.read() as conn:
        person = await people.person_by_identity(conn, "console", f"p{world.officer_id}")
        log = await audit.entries(conn, "identity", f"console:p{world.officer_id}")
    assert person.id == world.officer_id
    assert [(e["action"], e["actor"]) for e in log] == [("link", "console:operator")]
    assert (await console.resolve_persona(core, "can-bo-tinh")).name == "Trần Văn Minh"
    assert (await console.resolve_persona(core, "truong-thon")).name == "Lò Văn Páo"
    assert (await console.resolve_persona(core, "can-bo-xa")).name == "Nguyễn Thị Hoa"
    with pytest.raises(console.PersonaError, match="admin"):
        await console.resolve_persona(core, "admin")


async def test_interactive_on_a_real_database_lists_people_and_links_the_chosen(core, db,
                                                                               world):
    status, out = await chat(core, "2\n/toi\n", who=None, scripted=False)
    assert status == 0 and "DEMO" not in out
    assert "1. Lò Văn Páo — Trưởng thôn — Bản Nà Khan" in out
    assert "5. Người lạ (chưa đăng ký)" in out
    assert "Bạn là Nguyễn Thị Hoa." in out
    async with db.read() as conn:
        linked = [await people.identities_of(conn, pid) for pid in
                  (world.head_id, world.officer_id, world.province_officer_id)]
    # Only the person chosen got a console identity; listing wrote nothing.
    assert [sorted(i["channel"] for i in ids) for ids in linked] == [
        ["test"], ["console", "test"], ["test"]]


class _FailingOnce(io.StringIO):
    """Console output that fails at its next write (a pipe that broke, a full disk)."""

    fail = False

    def write(self, text: str) -> int:
        if self.fail:
            self.fail = False
            raise BrokenPipeError("the reader went away")
        return super().write(text)


async def test_a_question_the_console_could_not_show_is_asked_again(core, db, world):
    """The same rule as on the messengers: a reply not shown is given back to the core, and
    the answer typed next is not taken for the question it asked."""
    persona = await console.resolve_persona(core, str(world.head_id))
    out = _FailingOnce()
    session = console.ConsoleSession(core, persona, out, None)
    await session.send("/baocao")
    out.fail = True
    with pytest.raises(BrokenPipeError):
        await session.send("261")  # «(2/10)» never shown
    replies = await session.send("261")
    assert replies[0].text.startswith("Xin lỗi, câu hỏi trước chưa tới được bạn:")
    assert "(2/10) Số hộ nghèo" in replies[0].text
    replies = await session.send("15")
    assert replies[-1].text.startswith("(3/10)")


# ---- the app -------------------------------------------------------------------------------


def test_log_never_shows_the_token():
    config = replace(load_config(ROOT / "config.toml", env={}),
                                 telegram=TelegramConfig(token="123456:SECRET-token"))
    stream = io.StringIO()
    app.setup_logging(config, stream)
    try:
        logging.getLogger("httpx").warning(
            "HTTP Request: POST https://api.telegram.org/bot123456:SECRET-token/getMe")
        logging.getLogger("bot.test").info("started")
    finally:
        logging.getLogger().removeHandler(
            next(h for h in logging.getLogger().handlers if h.get_name() == "giamngheo"))
    text = stream.getvalue()
    assert "SECRET" not in text and "bot[REDACTED]/getMe" in text and "started" in text
    assert logging.getLogger("httpx").level == logging.WARNING


def app_config(tmp_path, token=""):
    return replace(
        load_config(ROOT / "config.toml", env={}), db_path=tmp_path / "real.sqlite3",
        demo_path=tmp_path / "demo.sqlite3", telegram=TelegramConfig(token=token),
    )


def test_telegram_mode_needs_a_token(tmp_path):
    assert app.run(app_config(tmp_path), mode="telegram") == app.EXIT_USAGE
    assert not (tmp_path / "real.sqlite3").exists()


def test_auto_mode_with_a_token_polls_telegram_on_the_real_database(tmp_path, monkeypatch):
    calls = []

    class TelegramSender:
        channel = "telegram"

        def __init__(self, bot, config):
            self.rate, self.per_chat_interval = 30.0, 1.0

    async def run_polling(config, core, stop=None, on_started=None):
        async with core.db.read() as conn:
            async with conn.execute("SELECT count(*) FROM schema_migrations") as cur:
                migrated = (await cur.fetchone())[0]
        stop_reminders = await on_started(object())  # the calendar and the delivery start
        await stop_reminders()
        calls.append((config.telegram.token, core.db.path, migrated, type(stop).__name__))

    fake = type(sys)("bot.channels.telegram")
    fake.run_polling = run_polling
    fake.TelegramSender = TelegramSender
    monkeypatch.setitem(sys.modules, "bot.channels.telegram", fake)
    assert app.run(app_config(tmp_path, token="1:x")) == app.EXIT_OK
    assert calls == [("1:x", str(tmp_path / "real.sqlite3"), len(MIGRATIONS), "Event")]
    assert not (tmp_path / "demo.sqlite3").exists()


def test_console_mode_runs_a_script_file_on_a_demo(tmp_path, capsys):
    script = tmp_path / "chat.txt"
    script.write_text("/toi\n", encoding="utf-8")
    status = app.run(app_config(tmp_path), mode="console", demo=True, person="admin",
                     script=script)
    assert status == app.EXIT_OK
    out = capsys.readouterr().out
    assert "⚠️ DEMO" in out and "> /toi\nBạn là Lê Quang Huy." in out
    assert demo.read_demo_meta(tmp_path / "demo.sqlite3")["demo"] == "1"
    assert not (tmp_path / "real.sqlite3").exists()
    assert app.run(app_config(tmp_path), mode="console", script=tmp_path / "none.txt") == 2


def test_process_files_a_report_from_stdin(tmp_path):
    """The real thing: a separate Python process, stdin piped, no token → console on the demo."""
    program = textwrap.dedent(f"""
        import pathlib, sys
        from bot.app import run
        from common.config import load_config
        from common.config import replace
        tmp = pathlib.Path({str(tmp_path)!r})
        config = replace(load_config(env={{}}), db_path=tmp / "real.sqlite3",
                                     demo_path=tmp / "demo.sqlite3")
        sys.exit(run(config))
    """)
    lines = ["/baocao", "giu nguyen", "giu nguyen", "giu nguyen", "0", "0", "0",
             "giu nguyen", "giu nguyen", "0", "bo qua", "gui"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", program], input="\n".join(lines) + "\n", capture_output=True,
        text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("⚠️ DEMO") and "Lò Văn Páo" in out
    assert "> giu nguyen\n(2/10)" in out
    assert "[✅ Gửi]" in out and "của Bản Nà Khan (phiên bản 1)" in out
    assert result.stderr == ""  # the console chat is quiet: no INFO log lines in the way

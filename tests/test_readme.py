"""Every ``python -m bot …`` command the README shows works as written (tested documentation,
STYLE.md §12): each is run, in the README's order, through ``bot.cli.main`` on a temporary
config, database and demo, with the files it names made for it; piped input is piped. No
messenger token is set, so the commands that connect to a messenger must end with the
sentence that names the missing token (exit 2), never with a usage error."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_COMMAND = re.compile(r"(?:printf '(?P<stdin>[^']*)' \| )?(?:\S*/)?python3? -m bot"
                      r"(?P<args>(?: [^`\n#]*)?)")
MESSENGER_FLAGS = {"--telegram": "GIAMNGHEO_TELEGRAM_TOKEN", "--zalo": "GIAMNGHEO_ZALO_TOKEN"}
# No bot runs in the workspace: `health` says so, with exit status 1 (as a monitor reads it).
NOT_ZERO = {("health",): (1, "Bot: not running")}


def readme_commands() -> list[tuple[list[str], str]]:
    """(argv, stdin) of every ``python -m bot`` in the README, in order; an optional part in
    brackets («[--area …]») is left out."""
    found = []
    for hit in _COMMAND.finditer(README):
        args = re.sub(r"\[[^\]]*\]", "", hit["args"])
        stdin = (hit["stdin"] or "").encode().decode("unicode_escape")
        found.append((shlex.split(args), stdin))
    return found


def admin_commands() -> list[list[str]]:
    """The commands of the README's «Other admin commands» sentence, as it names them."""
    sentence = README[README.index("Other admin commands"):]
    sentence = sentence[:sentence.index("\n\n")]
    return [shlex.split(code) for code in re.findall(r"`([a-z][^`]*)`", sentence)
            if not code.startswith("--")]


def test_the_readme_shows_the_commands_people_need():
    argvs = [argv for argv, _ in readme_commands()]
    for expected in ([], ["--zalo"], ["--telegram"], ["import-areas", "thon-xom.xlsx"],
                     ["console", "--demo", "--as", "truong-thon", "--script"]):
        assert expected in argvs
    assert ["migrate"] in admin_commands() and ["reports", "Bản Nà Khan"] in admin_commands()


def _roster(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Tỉnh", "Mã xã", "Xã", "Thôn"])
    for village in ("Bản Nà Khan", "Bản Pa Ủ"):
        sheet.append(["Tỉnh Lai Châu", "03445", "Xã Mường Tè", village])
    book.save(path)


def _households(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã hộ", "Họ tên chủ hộ", "Thôn", "Phân loại", "Dân tộc thiểu số"])
    sheet.append(["NK-001", "Lò Văn Páo", "Bản Nà Khan", "nghèo", "x"])
    sheet.append(["NK-002", "Lò Thị Mai", "Bản Nà Khan", "cận nghèo", "x"])
    sheet.append(["PU-001", "Pờ Văn Sứ", "Bản Pa Ủ", "trung bình", ""])
    book.save(path)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A directory holding the README's files and a config whose database and demo live
    there; no messenger token in the environment."""
    for name in [v for v in list(__import__("os").environ) if v.startswith("GIAMNGHEO_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "config.toml"
    config.write_text('[database]\npath = "giamngheo.sqlite3"\n[demo]\npath = "demo.sqlite3"\n'
                      '[stats]\nchart_workers = 0\n', encoding="utf-8")
    monkeypatch.setenv("GIAMNGHEO_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    _roster(tmp_path / "thon-xom.xlsx")
    _households(tmp_path / "ho-xa-muong-te.xlsx")
    return tmp_path


def test_every_command_of_the_readme_works_as_written(workspace, capsys, monkeypatch):
    ran = []
    for argv, stdin in [*readme_commands(), *[(a, "") for a in admin_commands()]]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = cli.main(argv)
        out, err = capsys.readouterr()
        shown = "python -m bot " + shlex.join(argv)
        assert "usage:" not in err and "unrecognized" not in err, (shown, err)
        flag = next((f for f in MESSENGER_FLAGS if f in argv), None)
        if flag is not None:  # no token here: one sentence that names it
            assert code == 2 and MESSENGER_FLAGS[flag] in err, (shown, err)
        elif tuple(argv) in NOT_ZERO:
            status, words = NOT_ZERO[tuple(argv)]
            assert code == status and words in out, (shown, out, err)
        else:
            assert code == 0, (shown, out, err)
            assert "Traceback" not in out + err, (shown, err)
        ran.append((shown, out))
    outputs = dict(ran)
    assert "> /baocao" in outputs["python -m bot console --demo --as truong-thon --script"]
    assert "(2/10)" in outputs["python -m bot console --demo --as truong-thon --script"]
    assert "NK-001" in outputs["python -m bot households 'Bản Nà Khan'"]

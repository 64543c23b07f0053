"""The router: one command however it is typed; never a crash, never a command from noise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import fold, plain
from handlers.router import ALIASES, looks_like_invite, match, show_invite


@pytest.mark.parametrize("text", ["/baocao", "bao cao", "Báo cáo", "BÁO CÁO", "/BaoCao",
                                  "/baocao@giamngheo_bot", "  báo   cáo  ", "bc", "/bc"])
def test_report_however_typed(text):
    assert match(text).name == "report"


@pytest.mark.parametrize("text,name,args", [
    ("/baocao 120 15 8", "report", "120 15 8"),
    ("Báo cáo tháng 10", "report", "tháng 10"),
    ("/start ABCD-2345", "start", "ABCD-2345"),
    ("/huy", "cancel", ""),
    ("Hủy", "cancel", ""),
    ("huỷ", "cancel", ""),  # the other placement of the tone mark
    ("/help", "help", ""),
    ("trợ giúp", "help", ""),
    ("/toi", "whoami", ""),
])
def test_commands_and_arguments(text, name, args):
    command = match(text)
    assert (command.name, command.args) == (name, args)


def test_slash_marks_typed_commands():
    assert match("/baocao").slash and not match("bao cao").slash


def test_unknown_slash_command_is_reported_as_unknown():
    assert match("/xoa_du_lieu").name == "unknown"


@pytest.mark.parametrize("text", ["120", "xin chào", "15 hộ", "báo", "", "   ", "🙂"])
def test_ordinary_text_is_no_command(text):
    assert match(text) is None


def test_menu_options_and_forged_ones():
    assert match("", "cmd:report").name == "report"
    assert match("", "cmd:drop_tables") is None
    assert match("", "x" * 200) is None


def test_invite_codes():
    assert looks_like_invite("abcd-2345") == "ABCD2345"
    assert looks_like_invite("ABCD 2345") == "ABCD2345"
    assert looks_like_invite("huongdan") is None  # a word, not a code (has o)
    assert looks_like_invite("abcd-23450") is None  # nine: a linking code's length
    assert looks_like_invite("abcde-23456") == "ABCDE23456"  # the ten of today's codes
    assert looks_like_invite("ABCDE 23456") == looks_like_invite("abcde23456") == "ABCDE23456"
    assert looks_like_invite("abcd-234567") is None and looks_like_invite("abcdef-23456") is None
    assert show_invite("ABCDE23456") == "ABCDE-23456" and show_invite("ABCD2345") == "ABCD-2345"


@given(st.text(max_size=300))
def test_router_never_crashes(text):
    command = match(text)
    if command is not None:
        assert command.name in ALIASES or command.name == "unknown"
        if command.name != "unknown" and not command.slash:
            # A keyword command must start with one of its words.
            first = plain(text).replace(" ", "")
            assert any(first.startswith(w) for w in ALIASES[command.name])


@given(st.sampled_from(sorted({w for ws in ALIASES.values() for w in ws})),
       st.sampled_from(["", " ", "  "]), st.booleans())
def test_every_alias_routes_to_its_command(word, space, upper):
    text = "/" + word
    if upper:
        text = text.upper()
    expected = next(name for name, words in ALIASES.items() if word in words)
    assert match(space + text + space).name == expected


@given(st.text(max_size=100))
def test_fold_is_idempotent_and_ascii_for_vietnamese(text):
    assert fold(fold(text)) == fold(text)
    assert fold("Đặc khu Côn Đảo") == "dac khu con dao"

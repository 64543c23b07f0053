"""Text folding (common/text.py): what every search and every typed answer is compared by.

Text pasted from Zalo or a phone's keyboard carries characters nobody sees — zero-width
spaces, joiners, direction marks, a byte-order mark, a soft hyphen (Unicode category Cf) —
and spaces of other widths (no-break, ideographic). Folding drops the first and turns the
second into one plain space, so «Lò\u200b Văn» is «lò văn» and «\u200b» alone is nothing.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import fold, plain, squash, visible

INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066",
             "\u2069", "\ufeff", "\u00ad", "\u2060")
SPACES = ("\u00a0", "\u2009", "\u202f", "\u3000", "\t", "\n")


@pytest.mark.parametrize("mark", INVISIBLE)
def test_invisible_characters_are_dropped(mark):
    assert fold(mark) == plain(mark) == squash(mark) == visible(mark) == ""
    assert fold(f"Lò{mark} Văn {mark}Páo") == "lo van pao"
    assert plain(f"{mark}NK-0{mark}1") == "nk 01"
    assert squash(f"bao{mark} cao") == "baocao"
    assert visible(f"{mark}Lò Văn{mark} Páo{mark}") == "Lò Văn Páo"


@pytest.mark.parametrize("space", SPACES)
def test_spaces_of_every_width_are_one_space(space):
    assert fold(f"Bản{space}{space}Nà Khan") == "ban na khan"
    assert visible(f" Bản{space}Nà{space} Khan ") == "Bản Nà Khan"


def test_visible_keeps_what_is_seen_in_one_form():
    decomposed = unicodedata.normalize("NFD", "Lò Văn Páo")
    assert visible(decomposed) == "Lò Văn Páo"  # NFC: the same text compares equal
    assert visible("  ✅ Gửi  ") == "✅ Gửi"


@given(st.text(max_size=80))
def test_folded_and_visible_text_has_no_invisible_characters(text):
    for out in (fold(text), plain(text), squash(text), visible(text)):
        assert not any(unicodedata.category(c) == "Cf" for c in out)
    assert visible(visible(text)) == visible(text)
    assert fold(visible(text)) == fold(text)


# ---- the edge: every message as it arrives (common.text.clean_inbound, common.messages) ----

from common.messages import Inbound  # noqa: E402
from common.text import MAX_INBOUND, clean_inbound, unseen  # noqa: E402

FAMILY = "👨\u200d👩\u200d👧"


@pytest.mark.parametrize(("raw", "clean"), [
    ("\ufeff5", "5"), ("\u202e021", "021"), ("\u200f15", "15"),
    ("Nguy\u202dễn\u206d Văn", "Nguyễn Văn"), ("\u2066Lò\u2069 Văn\u200b Páo", "Lò Văn Páo"),
    (unicodedata.normalize("NFD", "Lường Thị Mai"), "Lường Thị Mai"),  # NFC
    ("a\x00b\x1b[31mđỏ\x7f\x85", "ab[31mđỏ"), ("a\tb", "a b"),
    ("dòng 1\r\ndòng 2\rdòng 3\u2028dòng 4", "dòng 1\ndòng 2\ndòng 3\ndòng 4"),
    ("\ud83d\ude00 vui", "😀 vui"),  # a surrogate pair (JSON's "\ud83d\ude00"): one emoji
    (FAMILY, FAMILY),  # the joiner inside an emoji sequence is what draws it
    ("Lò\u200dVăn", "LòVăn"), ("120", "120"), ("", ""),
])
def test_the_edge_keeps_what_is_seen_and_drops_what_is_not(raw, clean):
    assert clean_inbound(raw) == (clean, False)


@pytest.mark.parametrize("raw", ["a\ud800b", "\udcff", "12\udfff3", "\ude00\ud83d"])
def test_a_lone_surrogate_is_removed_and_reported(raw):
    text, broken = clean_inbound(raw)
    assert broken and not any("\ud800" <= c <= "\udfff" for c in text)
    text.encode("utf-8")  # what SQLite and every messenger need


@given(st.text(max_size=60) | st.lists(st.sampled_from(
    ["\ud800", "\udfff", "\ud83d", "\ude00", "\u202e", "\u200d", "\x1b", "\r", "\x00",
     "👨", "a", "̀", "\ufeff", "\u206d", "\n", "1"]), max_size=20).map("".join))
def test_nothing_unseen_passes_the_edge(raw):
    text, _ = clean_inbound(raw)
    text.encode("utf-8")
    assert unseen(text) == []
    assert clean_inbound(text) == (text, False)  # once is enough
    assert text == unicodedata.normalize("NFC", text)


def test_every_inbound_is_cleaned_where_it_is_built():
    # Whatever channel builds it (Telegram, Zalo, the console, a test), a dialog never sees a
    # lone surrogate or a control character; what could not be read says why (``refused``).
    inbound = Inbound("zalo", "u1", "u1", "m1", text="\u202e1\u200b2\ud800",
                      display_name="\u202eLò Văn\x00 Páo\ud800  ", option="abc.\u200bfix:1")
    assert (inbound.text, inbound.display_name, inbound.option) == ("12", "Lò Văn Páo",
                                                                      "abc.fix:1")
    assert inbound.refused == "core.unreadable"
    assert Inbound("zalo", "u1", "u1", "m2", text="120").refused == ""
    long = Inbound("zalo", "u1", "u1", "m3", text="x" * 10_000, display_name="y" * 1000)
    assert long.refused == "core.message_too_long" and len(long.text) == MAX_INBOUND
    assert len(long.display_name) <= 128

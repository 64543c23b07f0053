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

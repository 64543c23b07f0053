"""Vietnamese text helpers: matching that ignores diacritics, case and spacing."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ơ": "o", "ư": "u"})


@lru_cache(maxsize=16384)  # button labels and commands repeat all day
def fold(text: str) -> str:
    """Return ``text`` lower-cased, without Vietnamese diacritics, with spaces collapsed.

    >>> fold("  Báo   CÁO ")
    'bao cao'
    >>> fold("Xã Tân Lập") == fold("xa tan lap")
    True
    """
    text = unicodedata.normalize("NFD", text.lower().translate(_EXTRA))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", text.lower().translate(_EXTRA)).strip()


def squash(text: str) -> str:
    """``fold`` and drop every space: ``"Báo cáo"`` and ``"baocao"`` become one key."""
    return fold(text).replace(" ", "")


@lru_cache(maxsize=16384)
def plain(text: str) -> str:
    """``fold`` keeping only letters, digits and single spaces: ``"✅ Gửi"`` → ``"gui"``."""
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in fold(text))
    return " ".join(kept.split())

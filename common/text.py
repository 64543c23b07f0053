"""Vietnamese text helpers: matching that ignores diacritics, case and spacing.

Text pasted from Zalo or typed on a phone carries characters nobody sees: zero-width spaces
and joiners, direction marks, a byte-order mark, a soft hyphen (Unicode's format characters,
category Cf), and spaces of other widths (no-break, thin, ideographic). Every helper here
drops the first and reads the second as one plain space, so a search, a command or a stored
name never depends on them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")  # every Unicode space (str.isspace), tabs and line ends too
# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ơ": "o", "ư": "u"})
_DROPPED = frozenset(("Mn", "Cf"))  # combining marks (diacritics) and format characters


def _without_format(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@lru_cache(maxsize=16384)  # button labels and commands repeat all day
def fold(text: str) -> str:
    """Return ``text`` lower-cased, without Vietnamese diacritics and invisible format
    characters, with spaces collapsed.

    >>> fold("  Báo   CÁO ")
    'bao cao'
    >>> fold("Xã Tân Lập") == fold("xa tan lap")
    True
    >>> fold("Lò\\u200b Văn\\u00a0Páo")
    'lo van pao'
    """
    text = unicodedata.normalize("NFD", text.lower().translate(_EXTRA))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)
    return _SPACES.sub(" ", text.lower().translate(_EXTRA)).strip()


def squash(text: str) -> str:
    """``fold`` and drop every space: ``"Báo cáo"`` and ``"baocao"`` become one key."""
    return fold(text).replace(" ", "")


@lru_cache(maxsize=16384)
def plain(text: str) -> str:
    """``fold`` keeping only letters, digits and single spaces: ``"✅ Gửi"`` → ``"gui"``."""
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in fold(text))
    return " ".join(kept.split())


def visible(text: str) -> str:
    """``text`` as a person sees it, to store or to quote back: NFC, without invisible format
    characters, every run of spaces one plain space, no space at the ends.

    >>> visible("\\u200b Lò  Văn\\u00a0Páo\\u200e")
    'Lò Văn Páo'
    """
    return " ".join(_without_format(unicodedata.normalize("NFC", text)).split())


# ---- the edge: text as it arrives from a messenger or the console ---------------------------

MAX_INBOUND = 4096  # characters of one message the bot reads (Telegram's own limit)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_UNSEEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # controls but the line end
_LINE_ENDS = re.compile("\r\n?|[\u2028\u2029]")
_ZWJ = "\u200d"


def clean_inbound(text: str) -> tuple[str, bool]:
    """``text`` as it enters the bot, and whether characters of it were broken.

    Done once, where an ``Inbound`` is built (``common.messages``), for every channel: NFC
    (a name typed decomposed equals the same name typed composed); line ends as ``\\n``,
    tabs as a space; no other control character (category Cc: NUL, ESC…) and no format
    character (category Cf: zero-width spaces, direction marks and overrides such as U+202E,
    a byte-order mark), except the joiner inside an emoji sequence, which draws it
    (👨‍👩‍👧). A surrogate pair split in two code points (JSON's ``"\\ud83d\\ude00"``) is
    joined; a *lone* surrogate is no character at all — UTF-8 cannot encode it, so neither
    SQLite nor a messenger would take it — and is removed, with ``True`` returned so that
    the person is told their message could not be read rather than have it taken for
    something else.

    >>> clean_inbound("\\u202e021\\u200b")
    ('021', False)
    """
    if text.isascii():  # the usual message: nothing to do unless a control is in it
        if _ASCII_UNSEEN.search(text) is None:
            return text, False
        text = _LINE_ENDS.sub("\n", text).replace("\t", " ").replace("\v", " ")
        return _ASCII_UNSEEN.sub("", text), False
    broken = False
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        text, removed = _SURROGATE.subn("", text)
        broken = removed > 0
    text = _LINE_ENDS.sub("\n", text).replace("\t", " ").replace("\v", " ")
    kept: list[str] = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cc" and ch != "\n":
            continue
        if category == "Cf" and not (ch == _ZWJ and kept and _joins_emoji(kept[-1], text, i)):
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), broken


def _joins_emoji(before: str, text: str, at: int) -> bool:
    """Whether the joiner at ``text[at]`` sits inside an emoji sequence (after an emoji, a
    skin tone or the emoji presentation selector, before an emoji)."""
    after = text[at + 1] if at + 1 < len(text) else ""
    return (before == "\ufe0f" or unicodedata.category(before) in ("So", "Sk")) and (
        after != "" and unicodedata.category(after) == "So")


def unseen(text: str) -> list[str]:
    """The characters of ``text`` the edge lets nobody store (see ``clean_inbound``): lone
    surrogates, controls but the line end, format characters but an emoji's joiner."""
    out = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        joiner = ch == _ZWJ and i > 0 and _joins_emoji(text[i - 1], text, i)
        if category == "Cs" or (category == "Cc" and ch != "\n") or (
                category == "Cf" and not joiner):
            out.append(ch)
    return out


# Yes and no as people type them, compared after ``plain`` (no diacritics, no
# punctuation): every question of every form reads them the same way. A yes/no question takes
# them as its answer; «Bạn có chắc…?» keeps the value typed on a yes (and on «giữ nguyên»:
# keep what I typed) and asks it again on a no; the summary sends on a yes and says what to
# type on a no; an optional question is skipped on a no; a count or an amount is 0 on a no
# that means "none" (not on «sai», wrong).
YES_WORDS = frozenset({
    "co", "c", "co a", "co chu", "yes", "y", "dung", "dung roi", "dung vay", "dung the",
    "dung a", "phai", "phai roi", "u", "uh", "um", "vang", "vang a", "da", "da vang", "ok",
    "oke", "okay", "ok a", "duoc", "dong y", "chac chan"})
NONE_WORDS = frozenset({
    "khong", "k", "ko", "kg", "kh", "khg", "hong", "khong a", "khong co", "ko co", "k co",
    "khong co gi", "khong co ai", "chua", "chua a", "chua co", "chua co ai"})
NO_WORDS = NONE_WORDS | {"no", "n", "sai", "khong phai", "khong dung"}

"""The router: finds which command a message asks for, ignoring diacritics and case.

``/baocao``, ``bao cao`` and ``Báo cáo`` are one command. A slash command is recognised
anywhere; a keyword without the slash only where no dialog is waiting for an answer (inside a
dialog, "báo cáo" may be a note), except the cancel words, which always cancel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.text import fold, squash

# command -> words that call it (compared with spaces removed).
ALIASES: dict[str, tuple[str, ...]] = {
    "start": ("start", "batdau"),
    "help": ("help", "trogiup", "huongdan", "menu", "hd"),
    "report": ("baocao", "bc", "baocaongay"),  # «Báo cáo ngay», a reminder's button typed
    "cancel": ("huy", "huybo", "cancel", "thoat"),
    "whoami": ("toi", "toilaai", "whoami"),
    "household": ("ho", "hogiadinh", "timho"),
    "registrations": ("dangky", "dangkythoatngheo"),
    "review": ("duyet", "xetduyet"),
    "half_year": ("baocao6thang", "baocao6t", "bc6t", "soket", "soket6thang"),
    "yearly": ("baocaonam", "bcn", "tongket", "tongketnam"),
    "calendar": ("lich", "lichbaocao", "hanbaocao"),
    "announce": ("thongbao", "guithongbao"),
    "stats": ("thongke", "tk", "bieudo", "solieu", "xephang", "khenthuong"),
    "link": ("lienket", "ketnoi", "link"),
    "remind": ("nhaclai",),  # «Nhắc lại»: remind the late villages again
}
_BY_WORD = {word: name for name, words in ALIASES.items() for word in words}
_LONGEST = 4  # the longest alias typed with spaces: "dang ky thoat ngheo"
MENU_PREFIX = "cmd:"
# Invite codes use an alphabet without look-alikes (no I, L, O, 0, 1): ten characters in two
# groups (ABCDE-23456, 31¹⁰ ≈ 8·10¹⁴ codes; handlers/enrol.py works out a guess); codes made
# before issue 12 have eight (ABCD-2345) and still work until they expire.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 10
_INVITE = re.compile(r"^(?:[a-hjkmnp-z2-9]{5}[- ]?[a-hjkmnp-z2-9]{5}"
                     r"|[a-hjkmnp-z2-9]{4}[- ]?[a-hjkmnp-z2-9]{4})$")
# Linking codes (handlers/link.py) use the same alphabet in another shape: nine characters in
# three groups (ABC-DEF-GHJ) against the invite's ten (or eight) in two, so a code typed alone
# is one or the other by its shape, never both.
_LINK_CODE = re.compile(r"^[a-hjkmnp-z2-9]{3}[- ]?[a-hjkmnp-z2-9]{3}[- ]?[a-hjkmnp-z2-9]{3}$")


def is_menu(options) -> bool:
    """Options that each run a command (the main menu, a reminder's «Báo cáo ngay»): a
    number or label typed after them chooses one (handlers.core)."""
    return bool(options) and all(o.data.startswith(MENU_PREFIX) for o in options)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str  # the rest of the message, as typed
    slash: bool  # typed as /command (or chosen from the menu)


def match(text: str, option: str | None = None) -> Command | None:
    """The command ``text`` (or a menu ``option``) asks for, or None."""
    if option is not None:
        # "cmd:report" (a menu button) or "cmd:report 10/2026" (a reminder's button): the
        # arguments are checked like typed ones, so forged data asks for nothing one could
        # not type.
        name, _, args = option[len(MENU_PREFIX):].partition(" ")
        if option.startswith(MENU_PREFIX) and name in ALIASES:
            return Command(name, args.strip(), True)
        return None
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.startswith("/"):
        head, _, rest = stripped[1:].partition(" ")
        name = _BY_WORD.get(squash(head.split("@", 1)[0]))
        return Command(name, rest.strip(), True) if name else Command("unknown", rest, True)
    words = stripped.split()
    for size in range(min(_LONGEST, len(words)), 0, -1):
        name = _BY_WORD.get(squash(" ".join(words[:size])))
        if name:
            return Command(name, " ".join(words[size:]), False)
    return None


def looks_like_invite(text: str) -> str | None:
    """The invite code in ``text`` (upper case, no dash) if it looks like one."""
    folded = fold(text)
    return folded.replace("-", "").replace(" ", "").upper() if _INVITE.match(folded) else None


def show_invite(code: str) -> str:
    """An invite code as people are given it: ``ABCDE-23456`` (``ABCD-2345``)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}" if len(code) in (8, INVITE_LENGTH) else code


def looks_like_link_code(text: str) -> str | None:
    """The linking code in ``text`` (upper case, no dashes) if it looks like one."""
    folded = fold(text)
    return folded.replace("-", "").replace(" ", "").upper() if _LINK_CODE.match(folded) else None


def menu_option(command: str, args: str = "") -> str:
    """Button data that runs ``command`` (with ``args``, as if typed after it)."""
    return MENU_PREFIX + command + (f" {args}" if args else "")

"""Long texts cut into messages a messenger accepts, at the most sensible boundary that fits.

Telegram counts a message's length in UTF-16 code units (an emoji counts two); Zalo documents
"1–2,000 characters" without saying how it counts, so it is measured the same, cautious way.
"""

from __future__ import annotations

from collections.abc import Callable

# Where a piece may end, best first, and how far into the piece (as a share of the longest
# piece that fits) the boundary must lie to be worth it: a paragraph break in the first half
# would leave a stub, a line end anywhere is fine (a list stays whole lines).
_BOUNDARIES = (("\n\n", 0.5), ("\n", 0.0), (". ", 0.5), ("; ", 0.5), (", ", 0.5), (" ", 0.0))


def utf16_units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The number of characters of ``text`` whose measure is at most ``limit``."""
    if measure is len:
        return min(limit, len(text))
    used = 0
    for index, char in enumerate(text):
        used += measure(char)
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int, *, measure: Callable[[str], int] = utf16_units
               ) -> list[str]:
    """``text`` in pieces of at most ``limit`` (as ``measure`` counts), cut at a paragraph
    break, else a line end, else after a sentence or clause, else between words, and only as
    a last resort inside a word. The whitespace at a cut is dropped; nothing else is lost."""
    pieces: list[str] = []
    rest = text
    while measure(rest) > limit:
        size = max(1, _fit(rest, limit, measure))
        window = rest[:size]
        for separator, least in _BOUNDARIES:
            at = window.rfind(separator)
            if at > 0 and at >= least * size:
                keep = separator.rstrip()  # ". " keeps its full stop
                pieces.append(window[:at] + keep)
                rest = rest[at + len(separator):]
                break
        else:
            pieces.append(window)
            rest = rest[size:]
    pieces.append(rest)
    stripped = [piece.rstrip("\n") for piece in pieces]
    return [piece for piece in stripped if piece.strip()]

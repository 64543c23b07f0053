"""Parse and format the figures village heads type: household counts and amounts of money (VND).

People write numbers the way they write them on paper or say them aloud::

    12   1.500.000   1,500,000   1 500 000   150k   1,5tr   2 triệu đồng   1tr5   không

After ``fold`` (lower case, no diacritics) both parsers accept this grammar::

    <integer> [<point> <digits>] [" "] [<unit> [<tail digits>]]

* ``<integer>`` is plain digits, or 1-3 digits (not starting with 0) followed by groups of
  exactly three digits, all split by the same separator: ``.``, ``,`` or a space
  (``1.500.000``, ``1 500 000``).
* Three digits after a separator always form a thousands group (``1.500`` = 1500,
  ``1,500k`` = 1 500 000); with any other count of digits ``.`` or ``,`` is a decimal point
  (``1.5k`` = 1500). So ``1500.000`` and ``0,500`` are refused rather than guessed. A decimal
  part is only allowed before a unit, and must use the other separator than the grouping
  (``1.500,5tr``).
* Units: k/nghìn/ngàn = 10^3, tr/triệu/m = 10^6, tỷ/tỉ = 10^9.
* Digits right after a unit continue it as a fraction: ``1tr5`` = 1.5 million, ``1tr25`` =
  1.25 million, ``1tr500`` = 1.5 million (at most as many digits as the unit has zeros).
* Money may end with a currency word: đ, vnđ, đồng. ``không`` / ``ko`` / ``không có`` mean 0.
* Invisible format characters (zero-width spaces and joiners, direction marks, a byte-order
  mark) that phones and pasting add are ignored.

Anything else raises ``NumberError`` with a key of ``common.catalogue.MESSAGES``: malformed
input is rejected, never guessed. Arithmetic is exact (integers only, no float).
"""

from __future__ import annotations

import re
import unicodedata

from common.text import fold

MAX_VALUE = 10**15  # larger figures are certainly typing mistakes
MAX_LENGTH = 40  # characters, after stripping surrounding spaces
_SHOWN = 20  # characters of the input quoted back in "not a number"

# Unit word (folded) -> power of ten.
_UNITS = {"k": 3, "nghin": 3, "ngan": 3, "tr": 6, "trieu": 6, "m": 6, "ty": 9, "ti": 9}
ZERO_WORDS = frozenset({"khong", "ko", "khong co", "ko co"})
_MINUS = ("-", "\u2212", "\u2013")  # hyphen, minus sign, en dash
_CURRENCY = re.compile(r" ?(?:d|vnd|dong)$")  # folded: đ, vnđ, đồng
_GROUP_SEPARATORS = str.maketrans("", "", "., ")

_NUMBER = re.compile(
    r"""
    (?P<int>
        [1-9][0-9]{0,2} (?P<group>[., ]) [0-9]{3} (?: (?P=group) [0-9]{3} )*  # 1.500.000
      | [0-9]+                                                          # 1500000
    )
    (?: (?P<point>[.,]) (?P<frac>[0-9]+) )?                             # ,5
    (?: \ ? (?P<unit>nghin|ngan|trieu|tr|ty|ti|k|m) (?P<tail>[0-9]+)? )?  # tr  /  tr5
    """,
    re.VERBOSE,
)


class NumberError(ValueError):
    """An input that is not an acceptable number; ``key`` names the message to show."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_count(text: str) -> int:
    """Parse a household count: a non-negative whole number.

    >>> parse_count("1.234"), parse_count("1,5k"), parse_count("không")
    (1234, 1500, 0)
    """
    return _parse(text, money=False)


def parse_money(text: str) -> int:
    """Parse an amount of money in đồng: a non-negative whole number.

    >>> parse_money("1,5tr"), parse_money("150k đồng"), parse_money("1tr5")
    (1500000, 150000, 1500000)
    """
    return _parse(text, money=True)


def format_count(n: int) -> str:
    """Write ``n`` with Vietnamese thousands dots: ``1234`` -> ``"1.234"``."""
    return f"{n:,}".replace(",", ".")


def format_money(n: int) -> str:
    """Write an amount of đồng: ``1500000`` -> ``"1.500.000đ"``."""
    return f"{format_count(n)}đ"


def _parse(text: str, *, money: bool) -> int:
    """Both parsers: check the raw text, fold it, handle a sign, then read the number."""
    if not text.isascii():  # invisible marks a phone or a paste adds (zero-width, RTL, BOM)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    shown = text.strip()
    if not shown:
        raise NumberError("number.empty")
    if len(shown) > MAX_LENGTH:
        raise NumberError("number.too_long")
    folded = fold(shown)
    if money:
        folded = _CURRENCY.sub("", folded)
    negative = folded.startswith(_MINUS)
    if negative:
        folded = folded[1:].lstrip()
    try:
        value = _value(folded, money=money)
    except NumberError:
        if negative:  # "-1,5" is a negative number first of all
            raise NumberError("number.negative") from None
        raise
    if value is None:
        quoted = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "…"
        raise NumberError("number.not_a_number", text=quoted)
    if negative:
        raise NumberError("number.negative")
    return value


def _value(folded: str, *, money: bool) -> int | None:
    """The value of a folded, unsigned number; ``None`` if it is not a number at all.

    Raises ``NumberError`` for numbers that are well-formed but not acceptable.
    """
    if folded in ZERO_WORDS:
        return 0
    match = _NUMBER.fullmatch(folded)
    if match is None:
        return None
    group, point, frac, unit, tail = match.group("group", "point", "frac", "unit", "tail")
    if point and (point == group or len(frac) == 3):  # "1.500.5", "1500.000": bad grouping
        return None
    if tail and (group or point or len(tail) > _UNITS[unit]):  # "1,5tr5", "1tr5000000"
        return None
    fraction_key = "number.money_fraction" if money else "number.not_integer"
    if point and not unit:  # "1,5": a whole number was expected (and 1,5 đồng is ambiguous)
        raise NumberError(fraction_key)
    # The value is int(digits) * 10**exponent / 10**places, computed exactly.
    decimals = frac or tail or ""
    digits = match["int"].translate(_GROUP_SEPARATORS) + decimals
    numerator = int(digits) * 10 ** _UNITS.get(unit, 0)
    scale = 10 ** len(decimals)
    if numerator > MAX_VALUE * scale:
        raise NumberError("number.too_large")
    if numerator % scale:  # "1,2345k" = 1234.5
        raise NumberError(fraction_key)
    return numerator // scale


def format_decimal(x: float, places: int = 2) -> str:
    """A decimal the Vietnamese way: ``11.2437`` -> ``"11,24"``, ``-1.5`` -> ``"-1,50"``."""
    whole = f"{x:,.{places}f}"
    return whole.replace(",", " ").replace(".", ",").replace(" ", ".")


def format_percent(x: float | None, places: int = 2) -> str:
    """A rate in percent: ``11.2437`` -> ``"11,24 %"``; ``None`` -> ``"—"``."""
    return "—" if x is None else f"{format_decimal(x, places)} %"

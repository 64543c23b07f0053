"""Tests for common/numbers.py: the figures people type, accepted or refused with a clear key."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.catalogue import MESSAGES, t
from common.numbers import (
    NumberError,
    format_count,
    format_money,
    parse_count,
    parse_money,
)
from common.text import fold

PARSERS = [parse_count, parse_money]

# --- accepted by both parsers --------------------------------------------------------------

BOTH_OK = [
    ("12", 12),
    (" 12 ", 12),
    ("0", 0),
    ("007", 7),
    ("1.500.000", 1_500_000),
    ("1,500,000", 1_500_000),
    ("1 500 000", 1_500_000),
    ("1\u00a0500\u00a0000", 1_500_000),  # non-breaking spaces
    ("1500000", 1_500_000),
    ("1.500", 1500),  # a 3-digit group is thousands, not a decimal
    ("1,500", 1500),
    ("150k", 150_000),
    ("150 k", 150_000),
    ("150K", 150_000),
    ("5 nghìn", 5000),
    ("5nghin", 5000),
    ("5 ngàn", 5000),
    ("5 ngan", 5000),
    ("2 triệu", 2_000_000),
    ("2trieu", 2_000_000),
    ("2 TRIỆU", 2_000_000),
    ("2tr", 2_000_000),
    ("2 Tr", 2_000_000),
    ("2m", 2_000_000),
    ("3 tỷ", 3_000_000_000),
    ("3tỉ", 3_000_000_000),
    ("3 ty", 3_000_000_000),
    ("3ti", 3_000_000_000),
    ("1,5tr", 1_500_000),
    ("1.5tr", 1_500_000),
    ("2,25 triệu", 2_250_000),
    ("0,5 tỷ", 500_000_000),
    ("0,50tr", 500_000),
    ("0,5000tr", 500_000),
    ("1.5k", 1500),
    ("1.500k", 1_500_000),  # grouping, then unit
    ("1,500k", 1_500_000),
    ("1.500,5tr", 1_500_500_000),  # grouping dots, decimal comma
    ("1tr5", 1_500_000),
    ("1tr25", 1_250_000),
    ("1tr500", 1_500_000),
    ("1tr05", 1_050_000),
    ("1tr3", 1_300_000),
    ("2ty3", 2_300_000_000),
    ("2 tỷ3", 2_300_000_000),
    ("1k5", 1500),
    ("1k500", 1500),
    ("không", 0),
    ("Không", 0),
    ("khong", 0),
    ("ko", 0),
    ("KO", 0),
    ("không có", 0),
    ("khong  co", 0),
    ("1.000.000.000.000.000", 10**15),  # the cap itself is allowed
]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(("text", "expected"), BOTH_OK)
def test_accepted(parse, text, expected):
    assert parse(text) == expected


MONEY_OK = [
    ("1.500.000đ", 1_500_000),
    ("1.500.000 đ", 1_500_000),
    ("1.500.000d", 1_500_000),
    ("1500000 VND", 1_500_000),
    ("1.500.000 vnđ", 1_500_000),
    ("150k đồng", 150_000),
    ("150k dong", 150_000),
    ("2 triệu đồng", 2_000_000),
    ("1tr5đ", 1_500_000),
    ("0đ", 0),
    ("không đồng", 0),
]


@pytest.mark.parametrize(("text", "expected"), MONEY_OK)
def test_money_accepts_currency_word(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", ["12 hộ", "12đ", "12 đồng"])
def test_count_refuses_words(text):
    with pytest.raises(NumberError) as info:
        parse_count(text)
    assert info.value.key == "number.not_a_number"


# --- refused ---------------------------------------------------------------------------------

BOTH_ERRORS = [
    ("", "number.empty"),
    ("   ", "number.empty"),
    ("\n\t", "number.empty"),
    ("-5", "number.negative"),
    ("\u22125", "number.negative"),  # minus sign
    ("- 5", "number.negative"),
    ("-1,5tr", "number.negative"),
    ("-1,5", "number.negative"),
    ("1" * 41, "number.too_long"),
    ("1" * 10**6, "number.too_long"),
    ("1.000.000.000.000.001", "number.too_large"),
    ("1 triệu tỷ", "number.not_a_number"),  # units are not combined
    ("1000000tỷ1", "number.too_large"),
    ("1000001 tỷ", "number.too_large"),
    ("9" * 40, "number.too_large"),
    ("abc", "number.not_a_number"),
    ("mười hai", "number.not_a_number"),
    ("😀", "number.not_a_number"),
    ("12😀", "number.not_a_number"),
    ("\x00", "number.not_a_number"),
    ("1\x002", "number.not_a_number"),
    ("１２", "number.not_a_number"),  # full-width digits are not guessed
    ("1.50.000", "number.not_a_number"),
    ("1..5", "number.not_a_number"),
    ("1,5,0", "number.not_a_number"),
    ("12 34", "number.not_a_number"),
    ("1 50", "number.not_a_number"),
    ("1500.000", "number.not_a_number"),
    ("1.500,000", "number.not_a_number"),  # mixed grouping separators
    ("1,500.000tr", "number.not_a_number"),
    ("0,500tr", "number.not_a_number"),  # 0,5tr or 500tr? Not guessed.
    ("0.500", "number.not_a_number"),
    ("01.500", "number.not_a_number"),
    ("1.500.5tr", "number.not_a_number"),  # grouping dot reused as decimal point
    ("5tr tr", "number.not_a_number"),
    ("5trtr", "number.not_a_number"),
    ("1tr500k", "number.not_a_number"),
    ("k", "number.not_a_number"),
    ("tr5", "number.not_a_number"),
    ("tr", "number.not_a_number"),
    ("1 tr 5", "number.not_a_number"),
    ("1,5tr5", "number.not_a_number"),  # decimal and tail together
    ("1k5000", "number.not_a_number"),  # tail longer than the unit
    ("1tr5000000", "number.not_a_number"),
    ("+5", "number.not_a_number"),
    ("5.", "number.not_a_number"),
    (".5", "number.not_a_number"),
    ("1e6", "number.not_a_number"),
    ("0x10", "number.not_a_number"),
    ("đ", "number.not_a_number"),
    ("-", "number.not_a_number"),
    ("-abc", "number.not_a_number"),
]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(("text", "key"), BOTH_ERRORS)
def test_refused(parse, text, key):
    with pytest.raises(NumberError) as info:
        parse(text)
    assert info.value.key == key


FRACTIONS = ["1,5", "2.7", "0,5", "1,0", "12,50", "1.500.000,5", "1,2345k", "1,0000001tr"]


@pytest.mark.parametrize("text", FRACTIONS)
def test_fraction_of_a_household(text):
    with pytest.raises(NumberError) as info:
        parse_count(text)
    assert info.value.key == "number.not_integer"


@pytest.mark.parametrize("text", FRACTIONS)
def test_fraction_of_a_dong(text):
    with pytest.raises(NumberError) as info:
        parse_money(text)
    assert info.value.key == "number.money_fraction"
    assert "1,5tr" in t(info.value.key)  # the message shows how to write it with a unit


def test_not_a_number_quotes_the_input_shortened():
    with pytest.raises(NumberError) as info:
        parse_count("  đây là một câu trả lời khá dài  ")
    assert info.value.params == {"text": "đây là một câu trả l…"}
    assert "«đây là một câu trả l…»" in t(info.value.key, **info.value.params)
    with pytest.raises(NumberError) as info:
        parse_money("abc")
    assert info.value.params == {"text": "abc"}


def test_number_error_is_a_value_error():
    error = NumberError("number.not_a_number", text="x")
    assert isinstance(error, ValueError)
    assert (error.key, error.params) == ("number.not_a_number", {"text": "x"})


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "count", "money"),
    [
        (0, "0", "0đ"),
        (999, "999", "999đ"),
        (1000, "1.000", "1.000đ"),
        (1234, "1.234", "1.234đ"),
        (1_500_000, "1.500.000", "1.500.000đ"),
    ],
)
def test_format(n, count, money):
    assert format_count(n) == count
    assert format_money(n) == money


# --- properties ------------------------------------------------------------------------------

# Text made of the pieces numbers are built from, to reach deep into the grammar.
PIECES = "0 1 5 12 500 000 . , - \u2212 k tr triệu m tỷ ti nghìn đ đồng vnd không có ko x 😀 \x00"
NUMBERISH = st.lists(st.sampled_from([*PIECES.split(), " "]), max_size=12).map("".join)
ANY_TEXT = st.one_of(st.text(), NUMBERISH)
ZERO_WORDS = {"khong", "ko", "khong co", "ko co"}
CURRENCY = re.compile(r" ?(?:d|vnd|dong)$")


def _outcome(parse, text):
    """The parser's result, or the NumberError it raised (any other exception fails)."""
    try:
        return parse(text)
    except NumberError as error:
        return error


@pytest.mark.parametrize("parse", PARSERS)
@given(text=ANY_TEXT)
def test_any_text_gives_a_count_or_a_known_error(parse, text):
    result = _outcome(parse, text)
    if isinstance(result, NumberError):
        assert result.key in MESSAGES
        t(result.key, **result.params)  # every message renders with its parameters
    else:
        assert type(result) is int and 0 <= result <= 10**15
        # No garbage accepted: there was a digit, or the text was a zero word.
        folded = fold(text)
        assert re.search("[0-9]", folded) or CURRENCY.sub("", folded) in ZERO_WORDS


@given(n=st.integers(min_value=0, max_value=10**12))
def test_round_trips(n):
    assert parse_money(format_money(n)) == n
    assert parse_count(format_count(n)) == n
    assert parse_money(f"{n:,}") == n
    assert parse_count(f"{n:,}") == n
    assert parse_money(str(n)) == n
    assert parse_money(f"{n // 1000}k") == n // 1000 * 1000


@given(millions=st.integers(min_value=0, max_value=999), tenths=st.integers(0, 9))
def test_decimal_and_tail_agree(millions, tenths):
    expected = millions * 1_000_000 + tenths * 100_000
    for text in (f"{millions},{tenths}tr", f"{millions}.{tenths} triệu", f"{millions}tr{tenths}"):
        assert parse_money(text) == expected


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize("text", [
    "120\u200b",  # zero-width space, as pasted from a chat
    "\u200f120",  # right-to-left mark
    "\ufeff120",  # byte-order mark
    "1\u200d20",  # zero-width joiner inside
])
def test_invisible_marks_are_ignored(parse, text):
    assert parse(text) == 120


@pytest.mark.parametrize("text", ["1e400", "99999999999999999999", "1tr5tr", "٣", "²"])
def test_hostile_numbers_are_refused_with_a_known_key(text):
    with pytest.raises(NumberError) as caught:
        parse_money(text)
    assert caught.value.key in MESSAGES

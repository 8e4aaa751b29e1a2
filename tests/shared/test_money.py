"""Money parsing at the edges: strict yuan strings, integer fen, no floats."""
import re
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from shared.errors import BadRequest
from shared.money import format_fen, parse_fen, parse_yuan, yuan_pattern, yuan_to_decimal


@pytest.mark.parametrize("text,fen", [
    ("100.00", 10000), ("0.01", 1), ("1", 100), ("1.5", 150), ("999999.99", 99999999),
    ("1000000.00", 100000000), (" 12.30 ", 1230), (5, 500),
])
def test_parse_yuan_accepts_decimal_strings(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", [
    "0", "0.00", "-1.00", "+1.00", "1.001", "1e3", "1E2", "NaN", "inf", "", "abc", "1,000.00",
    "01.00", ".5", "1.", "1000000.01", "１００", 1.5, 100.0, True, None, [], {}, "0x10",
])
def test_parse_yuan_refuses(bad):
    with pytest.raises(BadRequest):
        parse_yuan(bad)


def test_parse_yuan_respects_configured_maximum():
    assert parse_yuan("50.00", max_fen=5000) == 5000
    with pytest.raises(BadRequest, match="must not exceed 50.00"):
        parse_yuan("50.01", max_fen=5000)


@pytest.mark.parametrize("value,fen", [(1, 1), ("25", 25), (10**12, 10**12)])
def test_parse_fen_accepts_positive_integers(value, fen):
    assert parse_fen(value) == fen


@pytest.mark.parametrize("bad", [0, -1, "0", "-5", "1.5", 1.0, "1e3", "abc", "", None, True, 10**16, "007"])
def test_parse_fen_refuses(bad):
    with pytest.raises(BadRequest):
        parse_fen(bad)


@pytest.mark.parametrize("fen,text", [(0, "0.00"), (1, "0.01"), (10, "0.10"), (12345, "123.45"), (-250, "-2.50")])
def test_format_fen(fen, text):
    assert format_fen(fen) == text
    assert yuan_to_decimal(fen) == Decimal(text)


@given(st.integers(min_value=1, max_value=100_000_000))
def test_format_then_parse_is_identity(fen):
    assert parse_yuan(format_fen(fen)) == fen


_FORM = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?")  # a plain amount: digits, at most two decimals


def _accepted(text: str, max_fen: int, zero: bool) -> bool:
    """What parse_yuan accepts of a plain amount (zero too, when ``zero``)."""
    if zero and re.fullmatch(r"0(\.0{1,2})?", text):
        return True
    if not _FORM.fullmatch(text):
        return False
    try:
        parse_yuan(text, max_fen=max_fen)
        return True
    except BadRequest:
        return False


def _spellings(fen: int) -> list[str]:
    whole, cents = divmod(fen, 100)
    return [f"{whole}.{cents:02d}", f"{whole}.{cents // 10}", str(whole), f"0{whole}.{cents:02d}", f"{whole}.{cents:02d}0",
            f"{whole}.", f" {whole}.{cents:02d}", f"{whole}.{cents:02d}\n", f"+{whole}"]


@given(st.integers(min_value=1, max_value=10**15), st.booleans(), st.data())
def test_yuan_pattern_matches_exactly_what_parse_yuan_accepts(max_fen, zero, data):
    pattern = re.compile(yuan_pattern(max_fen, zero))
    near = st.integers(min_value=max(0, max_fen - 1000), max_value=max_fen + 1000)
    anywhere = st.integers(min_value=0, max_value=2 * max_fen + 100)
    for fen in [0, 1, 99, 100, max_fen - 1, max_fen, max_fen + 1, data.draw(near), data.draw(anywhere)]:
        for text in _spellings(max(fen, 0)):
            assert (pattern.fullmatch(text) is not None) == _accepted(text, max_fen, zero), (max_fen, zero, text)


def test_yuan_pattern_of_the_default_maximum():
    pattern = re.compile(yuan_pattern())
    assert all(pattern.fullmatch(text) for text in ("0.01", "0.1", "1", "100.00", "999999.99", "1000000", "1000000.0"))
    assert not any(pattern.fullmatch(text) for text in ("0", "0.00", "1000000.01", "1000001", "01", "1.001", "1e3"))

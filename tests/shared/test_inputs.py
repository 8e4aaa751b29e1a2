"""The decoders every service uses for what enters it: strict UTF-8, no lone surrogates or NUL, one value
per name where one is read, bounded JSON; and each reads back exactly what a correct encoder wrote."""
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import inputs
from shared.errors import BadRequest

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | TEXT
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                           max_leaves=20)


@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=6), plus=st.booleans())
def test_form_pairs_read_back_what_urlencode_wrote(pairs, plus):
    encoded = urlencode(pairs, quote_via=quote_plus if plus else quote).encode("ascii")
    assert inputs.form_pairs(encoded) == pairs


@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_loads_json_reads_back_what_json_wrote(value, ascii_only):
    assert inputs.loads_json(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")) == value


@pytest.mark.parametrize("raw,reason", [
    (b"a=%FF", "a: not valid UTF-8"), (b"a=%ED%A0%80", "a: not valid UTF-8"), (b"a=%C0%AF", "a: not valid UTF-8"),
    (b"%FF=1", "a parameter name: not valid UTF-8"), (b"a=x%00", "a: may not contain NUL"),
    (b"a\xff=1", "a parameter name: not valid UTF-8"), (b"a=\xe4\xb8", "a: not valid UTF-8"),
])
def test_form_pairs_refuse_what_is_not_utf8_text(raw, reason):
    with pytest.raises(BadRequest, match=reason):
        inputs.form_pairs(raw)


def test_form_pairs_keep_what_is_not_an_escape_and_decode_the_rest():
    assert inputs.form_pairs(b"a=%G1%&b=+x%2B&&c&=d&e=%e4%b8%ad") == [
        ("a", "%G1%"), ("b", " x+"), ("c", ""), ("", "d"), ("e", "中")]


@pytest.mark.parametrize("body,reason", [
    (b'{"a": ' + b"1" * 101 + b"}", "longer than 100"), (b"-" + b"1" * 100, "longer than 100"),
    (b"1" * 5000, "longer than 100"), (b"0." + b"1" * 100, "longer than 100"), (b"1e400", "out of range"),
    (b"[-1e400]", "out of range"), (b"NaN", "NaN is not"), (b'{"a": Infinity}', "Infinity is not"),
    (b"[" * 33 + b"]" * 33, "nested deeper"), (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper"),
    (b"[" * 200_000, "nested deeper"), (b'["\\ud800"]', "lone surrogate"), (b'{"\\udc00": 1}', "lone surrogate"),
    (b'"\\ud83d"', "lone surrogate"), (b'["a\\u0000"]', "NUL"), (b'{"a": 1, "b": 2, "a": 3}', "a: given more than once"),
    (b'"\xed\xa0\x80"', "not valid UTF-8"), (b'"\xff"', "not valid UTF-8"), (b"\xef\xbb\xbf{}", "Invalid JSON body"),
    ('{"a": 1}'.encode("utf-16"), "not valid UTF-8"), (b"{", "Invalid JSON body"), (b"", "Invalid JSON body"),
])
def test_loads_json_refuses_absurd_documents_with_a_reason(body, reason):
    with pytest.raises(BadRequest, match=reason):
        inputs.loads_json(body)


def test_loads_json_accepts_what_only_looks_unsafe():
    assert inputs.loads_json(b'["\\\\ud800", "\\ud83d\\ude00", "\\\\u0000"]') == ["\\ud800", "😀", "\\u0000"]
    assert inputs.loads_json(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(BadRequest, match="lone surrogate"):
        inputs.loads_json('"\ud800"')  # text handed in as str is held to the same rule


@pytest.mark.parametrize("header,kept", [("abc-123", True), ("1.5:x/y", True), ("x" * 64, True), ("x" * 65, False),
                                         ("a b", False), ("caf\xe9", False), ("", False), (None, False),
                                         (" padded ", True)])
def test_request_ids_are_visible_ascii(header, kept):
    assert (inputs.request_id(header) is not None) is kept


@pytest.mark.parametrize("params,refused", [({}, False), ({"charset": "utf-8"}, False), ({"charset": "UTF8"}, False),
                                            ({"charset": '"utf-8"'}, False), ({"charset": "gbk"}, True),
                                            ({"charset": "utf-16"}, True), ({"boundary": "x"}, False)])
def test_only_utf8_is_an_accepted_charset(params, refused):
    assert (inputs.charset_refusal(params) is not None) is refused


def test_single_values_refuse_only_the_names_read():
    pairs = [("a", "1"), ("b", "2"), ("b", "3")]
    assert inputs.single_values(pairs, ["a"]) == {"a": "1", "b": "2"}
    with pytest.raises(BadRequest, match="b: given more than once"):
        inputs.single_values(pairs)

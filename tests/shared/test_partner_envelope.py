"""The partner envelope: only the genuine, fresh message opens; no re-cut or re-encoding does."""
import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.partner_envelope import EnvelopeError, envelope_schema, open_envelope, parse_biz_data, seal, signature

APP_ID, SECRET, NOW = "rongshu", "s3cret-for-tests", 1_780_000_000_000


def test_a_sealed_envelope_opens_to_its_biz_data():
    biz = {"orderNo": "R1", "loanAmount": 500000, "name": "张三"}
    assert open_envelope(seal(biz, APP_ID, SECRET, NOW), APP_ID, SECRET, NOW + 1000) == biz


def test_the_sign_is_the_md5_of_the_documented_text():
    envelope = seal({"a": 1}, APP_ID, SECRET, NOW)
    text = f'appId={APP_ID}&bizData={{"a":1}}&timestamp={NOW}&key={SECRET}'
    assert envelope["sign"] == hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize("skew", [300_001, -300_001])
def test_a_timestamp_outside_the_window_is_refused(skew):
    envelope = seal({"a": 1}, APP_ID, SECRET, NOW)
    with pytest.raises(EnvelopeError, match="timestamp"):
        open_envelope(envelope, APP_ID, SECRET, NOW + skew)
    assert open_envelope(envelope, APP_ID, SECRET, NOW + skew - (1 if skew > 0 else -1)) == {"a": 1}


@pytest.mark.parametrize("change", [
    {"appId": "other"}, {"sign": "0" * 32}, {"timestamp": NOW + 1}, {"bizData": '{"a":2}'},
    {"extra": "x"}, {"timestamp": True}, {"timestamp": f"0{NOW}"}, {"timestamp": f"+{NOW}"},
    {"timestamp": float(NOW)}, {"bizData": {"a": 1}},
])
def test_any_change_is_refused(change):
    with pytest.raises(EnvelopeError):
        open_envelope({**seal({"a": 1}, APP_ID, SECRET, NOW), **change}, APP_ID, SECRET, NOW)


def test_an_upper_case_sign_is_refused():
    envelope = seal({"a": 1}, APP_ID, SECRET, NOW)
    with pytest.raises(EnvelopeError, match="lower-case"):
        open_envelope({**envelope, "sign": envelope["sign"].upper()}, APP_ID, SECRET, NOW)


def test_the_timestamp_may_travel_as_digits_with_the_same_sign():
    envelope = seal({"a": 1}, APP_ID, SECRET, NOW)
    assert open_envelope({**envelope, "timestamp": str(NOW)}, APP_ID, SECRET, NOW) == {"a": 1}


@pytest.mark.parametrize("biz_data", [
    '{"a":1,"a":2}', '{"a":NaN}', '{"a":1.5}', '[1]', '"x"', '{"a":"\\ud800"}', '{"a":1} x',
    '{"a":' + "9" * 40 + "}", "[" * 100_000 + "]" * 100_000,
])
def test_ambiguous_biz_data_is_refused(biz_data):
    with pytest.raises(EnvelopeError):
        parse_biz_data(biz_data)


def test_a_lone_surrogate_in_the_signed_text_is_refused_not_crashed():
    envelope = {"appId": APP_ID, "timestamp": NOW, "bizData": '{"a":"\ud800"}', "sign": "0" * 32}
    with pytest.raises(EnvelopeError, match="Unicode"):
        open_envelope(envelope, APP_ID, SECRET, NOW)


_text = st.text(st.characters(codec="utf-8"), max_size=12)
# Values that carry the separators of the signed text, so that other cuts of it exist.
_separators = st.sampled_from(["&bizData=", "&timestamp=", f"&timestamp={NOW}", "&key=", "rongshu&", "="])
_tricky = st.lists(st.one_of(_text, _separators), max_size=4).map("".join)


def _all_cuts(text: str):
    """Every (appId, bizData, timestamp) whose signed text ``appId=..&bizData=..&timestamp=..`` is ``text``."""
    for first in (m.start() for m in re.finditer(re.escape("&bizData="), text)):
        for second in (m.start() for m in re.finditer(re.escape("&timestamp="), text)):
            if second >= first + len("&bizData="):
                yield text[:first], text[first + len("&bizData="):second], text[second + len("&timestamp="):]


@settings(max_examples=300, deadline=None)
@given(biz=st.dictionaries(st.one_of(st.text(max_size=6), _separators), st.one_of(st.integers(-10**9, 10**9), _tricky),
                           max_size=4))
def test_only_the_genuine_cut_of_the_signed_text_is_accepted(biz):
    """Every other split of the same signed text into appId, bizData and timestamp carries the same
    sign, and every one of them is refused."""
    genuine = seal(biz, APP_ID, SECRET, NOW)
    signed = f"{APP_ID}&bizData={genuine['bizData']}&timestamp={NOW}"
    cuts = list(_all_cuts(signed))
    assert (APP_ID, genuine["bizData"], str(NOW)) in cuts
    for app_id, biz_data, stamp in cuts:
        forged = {**genuine, "appId": app_id, "bizData": biz_data, "timestamp": stamp}
        assert signature(app_id, biz_data, stamp, SECRET) == genuine["sign"]
        if (app_id, biz_data, stamp) == (APP_ID, genuine["bizData"], str(NOW)):
            assert open_envelope(forged, APP_ID, SECRET, NOW) == biz
        else:
            with pytest.raises(EnvelopeError):
                open_envelope(forged, APP_ID, SECRET, NOW)


@settings(max_examples=200, deadline=None)
@given(biz=st.dictionaries(st.text(max_size=6), st.one_of(st.integers(-10**6, 10**6), _text), min_size=1,
                           max_size=4))
def test_re_encoding_biz_data_invalidates_the_sign(biz):
    """The same object written another way (ASCII escapes, spaces, key order) is another signed text."""
    genuine = seal(biz, APP_ID, SECRET, NOW)
    for variant in (json.dumps(biz), json.dumps(biz, separators=(",", ":"), sort_keys=True),
                    json.dumps(dict(reversed(list(biz.items()))), ensure_ascii=False, separators=(",", ":"))):
        if variant == genuine["bizData"]:
            continue
        with pytest.raises(EnvelopeError, match="sign"):
            open_envelope({**genuine, "bizData": variant}, APP_ID, SECRET, NOW)
    assert signature(APP_ID, genuine["bizData"], NOW, SECRET) == genuine["sign"]


def test_the_documented_envelope_is_the_sealed_one():
    schema = envelope_schema(APP_ID)
    envelope = seal({"orderNo": "R1"}, APP_ID, SECRET, NOW)
    assert set(schema["required"]) == set(envelope) and schema["additionalProperties"] is False
    assert schema["properties"]["appId"]["enum"] == [envelope["appId"]]
    assert re.search(schema["properties"]["sign"]["pattern"], envelope["sign"])
    assert not re.search(schema["properties"]["sign"]["pattern"], envelope["sign"].upper())
    integer = schema["properties"]["timestamp"]["oneOf"][0]
    assert integer["minimum"] <= envelope["timestamp"] <= integer["maximum"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789+- ", max_size=18))
def test_the_documented_timestamp_text_is_exactly_the_accepted_one(text):
    """OpenAPI reads a pattern as a search: the documented one must still admit exactly the accepted forms."""
    pattern = envelope_schema(APP_ID)["properties"]["timestamp"]["oneOf"][1]["pattern"]
    stamp = int(text) if re.fullmatch(r"\s*[+-]?[0-9]+\s*", text) else 0
    envelope = {"appId": APP_ID, "timestamp": text, "bizData": '{"a":1}',
                "sign": signature(APP_ID, '{"a":1}', stamp, SECRET)}
    try:
        accepted = open_envelope(envelope, APP_ID, SECRET, stamp) == {"a": 1}
    except EnvelopeError:
        accepted = False
    assert accepted == (re.search(pattern, text) is not None)

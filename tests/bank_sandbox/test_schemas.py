"""The OpenAPI document states the rules the bank enforces: its patterns accept exactly what the bank's
own checks accept, and the rules the configuration sets are those of the running bank."""
import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_sandbox.api.schemas import STANDARD_BASE64, yuan_pattern
from bank_sandbox.bootstrap import create_app, dependencies
from shared.errors import BadRequest
from shared.money import parse_yuan
from shared.signing import decode_wanxin

BASE64_TEXT = st.text(alphabet="ABCQgwz09+/=-_ \n", max_size=12)


def _yuan_accepted(text: str, max_fen: int) -> bool:
    try:
        parse_yuan(text, "amount", max_fen)
        return True
    except BadRequest:
        return False


def _base64_accepted(text: str, public_key) -> bool:
    """Whether the bank reads ``text`` as reqData's Base64: only then does it go on to the signature."""
    with pytest.raises(BadRequest) as refused:
        decode_wanxin(text, "AAAA", public_key)
    return refused.value.msg == "signature does not verify"


@pytest.mark.parametrize("max_fen", [1, 99, 100, 150, 1099, 100_000_000, 123_456_789, 10**15])
@given(text=st.one_of(st.from_regex(r"(0|[1-9][0-9]{0,16}|0[0-9]+)(\.[0-9]{0,3})?", fullmatch=True),
                      st.text(alphabet="0123456789.", max_size=12)))
def test_the_amount_pattern_accepts_exactly_the_amounts_the_bank_accepts(max_fen, text):
    assert bool(re.fullmatch(yuan_pattern(max_fen), text)) == _yuan_accepted(text, max_fen)


@pytest.mark.parametrize("max_fen", [1, 150, 100_000_000])
def test_the_amount_pattern_at_its_edges(max_fen):
    pattern = re.compile(yuan_pattern(max_fen))
    whole, cents = divmod(max_fen, 100)
    top = f"{whole}.{cents:02d}"
    assert pattern.fullmatch(top) and pattern.fullmatch("0.01")
    assert not any(pattern.fullmatch(text) for text in ("0", "0.00", "0.0", f"{whole}.{cents + 1:02d}" if cents < 99
                                                        else f"{whole + 1}.00", " 1.00", "1.000", "01.00", "1e2"))


@given(raw=st.binary(min_size=1, max_size=40))
def test_the_base64_pattern_accepts_every_standard_encoding(raw):
    assert re.fullmatch(STANDARD_BASE64, base64.b64encode(raw).decode("ascii"))


@given(text=BASE64_TEXT)
def test_the_base64_pattern_accepts_only_what_the_bank_reads(platform, text):
    if " " in text:  # the bank reads a space as the "+" a form decoder made of it; the document asks for "+"
        text = text.replace(" ", "+")
    assert bool(re.fullmatch(STANDARD_BASE64, text)) == _base64_accepted(text, platform.private.public_key())


def test_the_document_states_the_configured_rules(settings, infra):
    app = create_app({**settings, "PLATFORM_NO": "OTHERP2P", "SANDBOX_MAX_AMOUNT": "50.00"})
    try:
        document = app.test_client().get("/openapi.json").json
    finally:
        dependencies(app).close()
    schemas = document["components"]["schemas"]
    parameters = document["paths"]["/statements"]["get"]["parameters"]
    query = {parameter["name"]: parameter["schema"] for parameter in parameters}
    assert query["platformNo"]["enum"] == ["OTHERP2P"]
    assert schemas["ConfirmRequest"]["properties"]["platformNo"]["enum"] == ["OTHERP2P"]
    assert schemas["HuifuRegister"]["properties"]["usrId"]["not"] == {"enum": ["OTHERP2P"]}
    text, whole = schemas["HuifuNetsave"]["properties"]["amount"]["oneOf"]
    assert re.fullmatch(text["pattern"], "50.00") and not re.fullmatch(text["pattern"], "50.01")
    assert whole == {"type": "integer", "minimum": 1, "maximum": 50}
    faults = schemas["Faults"]
    assert faults["minProperties"] == 1 and faults["additionalProperties"] is False
    assert faults["properties"]["reorderBatch"] | {"description": ""} == {"type": "integer", "minimum": 1,
                                                                          "maximum": 1000, "description": ""}


@pytest.mark.parametrize("knob, value, accepted", [("duplicates", 100, True), ("duplicates", 101, False),
                                                   ("reorderBatch", 0, False), ("delaySeconds", 3600, True),
                                                   ("delaySeconds", 3600.5, False), ("dropProbability", 1, True)])
def test_the_documented_fault_ranges_are_the_enforced_ones(client, infra, knob, value, accepted):
    token = {"Authorization": f"Bearer {infra.internal_token}"}
    document = client.get("/openapi.json").json["components"]["schemas"]["Faults"]["properties"][knob]
    assert (document["minimum"] <= value <= document["maximum"]) == accepted
    answer = client.post("/sandbox/faults", json={knob: value}, headers=token)
    assert answer.status_code == (200 if accepted else 400), answer.json
    client.delete("/sandbox/faults", headers=token)

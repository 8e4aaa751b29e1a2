"""The OpenAPI document states the rules the API enforces: what its patterns admit is what the API accepts."""
import re

import pytest
from hypothesis import given, settings, strategies as st
from marshmallow import ValidationError

from shared.errors import BadRequest

from depository_agent import gateway_requests
from depository_agent.api import schemas
from depository_agent.bootstrap import create_app

from tests.depository_agent.conftest import PLATFORM_NO, recharge_body, withdraw_body

MAX_FEN = 1_234_567  # an unusual maximum, so that the document can only be right by reading the setting


@pytest.fixture(scope="module")
def document(infra, agent_db):
    app = create_app(infra.config("depository_agent", MAX_AMOUNT_FEN=MAX_FEN))
    yield app.test_client().get("/openapi.json").get_json()
    app.extensions["depository_agent"].close()


def _admits(pattern: str, text: str) -> bool:
    """Whether a JSON Schema (ECMA) pattern matches ``text``: ``$`` is the very end there, not before a newline."""
    return re.search(re.sub(r"\$$", r"\\Z", pattern), text) is not None


def _property(document: dict, schema: str, name: str) -> dict:
    return document["components"]["schemas"][schema]["properties"][name]


def _accepted(schema, kind, body: dict) -> bool:
    """Whether POST /l/... would accept ``body``: its schema, then the amounts' range as the request is built."""
    try:
        gateway_requests.build_record(kind, schema().load(body), MAX_FEN)
        return True
    except (ValidationError, BadRequest):
        return False


_AMOUNTS = st.one_of(st.from_regex(r"\A[0-9]{1,8}(\.[0-9]{0,3})?\Z"), st.text(alphabet="0123456789. +-e\n", max_size=12),
                     st.integers(0, MAX_FEN + 10).map(lambda fen: f"{fen // 100}.{fen % 100:02d}"))


@settings(max_examples=300)
@given(amount=_AMOUNTS, commission=_AMOUNTS)
def test_the_documented_amount_range_is_the_accepted_one(document, amount, commission):
    amount_pattern = _property(document, "RechargeRequest", "amount")["pattern"]
    commission_pattern = _property(document, "WithdrawRequest", "commission")["pattern"]
    assert _property(document, "WithdrawRequest", "amount")["pattern"] == amount_pattern
    assert _admits(amount_pattern, amount) == _accepted(
        schemas.RechargeRequestSchema, gateway_requests.RECHARGE, recharge_body(amount=amount))
    assert _admits(commission_pattern, commission) == _accepted(
        schemas.WithdrawRequestSchema, gateway_requests.WITHDRAW, withdraw_body(amount="1.00", commission=commission))


_URL_CHARACTERS = st.sampled_from(list("hHtTpPsS:/?#[]@.:1aZ-_~%") + [" ", "\t", "\n", "\x01", "\x7f", "\x85",
                                                                      "\x1c", "\u00a0", "\u2028", "\ufeff", "例"])
_URLS = st.one_of(st.text(_URL_CHARACTERS, max_size=20),
                  st.tuples(st.sampled_from(["http://", "HTTPS://", "ftp://", "http:/", " http://"]),
                            st.text(_URL_CHARACTERS, max_size=15)).map("".join))


@settings(max_examples=400)
@given(url=_URLS)
def test_the_documented_callback_url_is_the_accepted_one(document, url):
    pattern = _property(document, "RechargeRequest", "callbackUrl")["pattern"]
    body = recharge_body(callbackUrl=url)
    documented = _admits(pattern, url)
    accepted = _accepted(schemas.RechargeRequestSchema, gateway_requests.RECHARGE, body)
    # the one thing a pattern cannot say: a bracketed host must also be a real IPv6 address
    assert documented == accepted or (documented and not accepted and "[" in url), url


def test_every_field_of_a_request_states_its_rule(document):
    for name in ("ConsumerRequest", "RechargeRequest", "WithdrawRequest"):
        schema = document["components"]["schemas"][name]
        assert set(schema["required"]) == set(schema["properties"])
        for field, rule in schema["properties"].items():
            assert {"pattern", "enum"} & set(rule), f"{name}.{field} states no rule"
    assert _property(document, "RechargeRequest", "callbackUrl")["maxLength"] == 1024


def test_the_notification_parameters_state_their_rules(document):
    query = {parameter["name"]: parameter for parameter in document["paths"]["/gateway"]["get"]["parameters"]}
    assert set(query) == {"serviceName", "platformNo", "reqData", "signature"}
    assert all(parameter["required"] for parameter in query.values())
    assert query["serviceName"]["schema"]["enum"] == ["PERSONAL_REGISTER", "RECHARGE", "WITHDRAW"]
    assert query["platformNo"]["schema"]["enum"] == [PLATFORM_NO]
    assert query["reqData"]["schema"]["maxLength"] == 16384 and query["signature"]["schema"]["maxLength"] == 4096
    assert _admits(query["reqData"]["schema"]["pattern"], "eyJhIjoxfQ==")
    assert not _admits(query["reqData"]["schema"]["pattern"], "eyJhIjoxfQ")  # padding is required
    form = document["paths"]["/gateway"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"] == {"$ref": "#/components/schemas/Notification"}
    [record] = document["paths"]["/l/records/{request_no}"]["parameters"]
    assert record["schema"]["pattern"] == "^REQ_[0-9A-F]{32}$"

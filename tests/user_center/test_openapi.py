"""The OpenAPI document states the rules the API checks, so that a client generated from it sends what the API
accepts: every documented pattern admits only accepted values, the configured ones (amount, callbackUrl)
follow the configuration, and request bodies list every field they take."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import BadRequest
from shared.money import format_fen, parse_yuan, yuan_pattern

from user_center.bootstrap import create_app, dependencies
from user_center.callback_urls import allowed

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def configured(infra, ledger, agent):
    """An app with a small maximum amount and two callback prefixes, and its served document."""
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  MAX_AMOUNT="123.45",
                                  CALLBACK_URL_PREFIXES="http://127.0.0.1:8001/, https://pay.example.com/app"))
    yield app, app.test_client().get("/openapi.json").json
    dependencies(app).close()


def body_schema(document: dict, path: str, method: str = "post") -> dict:
    reference = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return document["components"]["schemas"][reference.rsplit("/", 1)[1]]


def query_parameter(document: dict, path: str, name: str) -> dict:
    return next(parameter["schema"] for parameter in document["paths"][path]["get"]["parameters"]
                if parameter["name"] == name)


def accepted_amount(text: str, max_fen: int) -> bool:
    try:
        parse_yuan(text, max_fen=max_fen)
    except BadRequest:
        return False
    return True


AMOUNT_LIKE = st.one_of(st.from_regex(r"\A0*[0-9]{1,17}(\.[0-9]{0,3})?\Z"), st.text(max_size=8),
                        st.integers(1, 10**17 - 1).map(format_fen))


@PROPERTY
@given(max_fen=st.one_of(st.integers(1, 10**18), st.sampled_from([1, 99, 100, 12345, 10**8, 10**17])),
       text=AMOUNT_LIKE)
def test_the_amount_pattern_admits_exactly_the_amounts_accepted_up_to_the_maximum(max_fen, text):
    # the API also trims surrounding spaces, which the document leaves out
    documented = re.fullmatch(yuan_pattern(max_fen), text) is not None
    assert documented == (accepted_amount(text, max_fen) and text == text.strip())
    assert re.fullmatch(yuan_pattern(max_fen), format_fen(min(max_fen, 10**17 - 1)))


def test_the_configured_maximum_and_prefixes_are_in_the_document(configured):
    app, document = configured
    amount = body_schema(document, "/my/recharge-records")["properties"]["amount"]
    assert amount["pattern"] == yuan_pattern(12345) and amount["example"] == "100.00"
    assert query_parameter(document, "/my/withdraw-records", "amount")["pattern"] == amount["pattern"]
    callback = body_schema(document, "/my/consumers")["properties"]["callbackUrl"]
    assert callback["example"] == "http://127.0.0.1:8001/#/callback"
    for url in ("http://127.0.0.1:8001/#/callback", "https://pay.example.com/app/done?x=1#top",
                "https://pay.example.com/app"):
        assert re.fullmatch(callback["pattern"], url), url
    for url in ("https://pay.example.com/apple", "http://127.0.0.1:8001//evil.com", "http://127.0.0.1:8001/./",
                "http://127.0.0.1:8001@evil.com/", "https://pay.example.com/app/../x"):
        assert re.fullmatch(callback["pattern"], url) is None, url


def test_every_documented_callback_url_is_accepted(configured):
    app, document = configured
    rules = dependencies(app).config["CALLBACK_URL_RULES"]
    pattern = body_schema(document, "/my/withdraw-records")["properties"]["callbackUrl"]["pattern"]

    @PROPERTY
    @given(st.from_regex(pattern, fullmatch=True).filter(lambda url: len(url) <= 512))
    def check(url):
        assert allowed(url, rules), url

    check()


def test_documented_text_is_accepted(app):
    document = app.test_client().get("/openapi.json").json
    register = body_schema(document, "/consumers")["properties"]
    login = body_schema(document, "/tokens")["properties"]
    fullname = body_schema(document, "/my/consumers")["properties"]["fullname"]
    assert fullname["pattern"] == register["username"]["pattern"]

    @PROPERTY
    @given(name=st.from_regex(fullname["pattern"], fullmatch=True),
           new_password=st.from_regex(register["password"]["pattern"], fullmatch=True),
           password=st.from_regex(login["password"]["pattern"], fullmatch=True))
    def check(name, new_password, password):
        assert name.isprintable()
        assert new_password == new_password.strip() and new_password and "\x00" not in new_password
        assert "\x00" not in password

    check()
    assert re.fullmatch(register["password"]["pattern"], " leading space") is None
    assert re.fullmatch(register["password"]["pattern"], "trailing\u3000") is None
    assert re.fullmatch(register["password"]["pattern"], "inner spaces ok")


def test_request_bodies_list_every_field_they_take(app):
    document = app.test_client().get("/openapi.json").json
    bodies = [(path, method) for path, operations in document["paths"].items()
              for method, operation in operations.items() if "requestBody" in operation]
    assert len(bodies) == 7
    for path, method in bodies:
        assert body_schema(document, path, method)["additionalProperties"] is False, path


def test_lendings_endpoints_document_their_rules(configured):
    app, document = configured
    consumer = body_schema(document, "/internal/consumers")
    assert set(consumer["required"]) == {"mobile", "fullname", "idNumber"}
    assert consumer["properties"]["fullname"]["maxLength"] == 50
    assert re.fullmatch(consumer["properties"]["idNumber"]["pattern"], "11010519491231002X")
    assert not re.fullmatch(consumer["properties"]["mobile"]["pattern"], "23800138000")
    post = document["paths"]["/internal/consumers"]["post"]
    assert {"200", "201", "400", "401", "409"} <= set(post["responses"])
    assert post["security"] == [{"serviceToken": []}]
    link = body_schema(document, "/internal/open-account-links")
    assert link["properties"]["validMinutes"]["maximum"] == 30 and link["properties"]["validMinutes"]["minimum"] == 1
    assert re.fullmatch(link["properties"]["userNo"]["pattern"], "USR_" + "A" * 32)
    assert {"401", "404"} <= set(document["paths"]["/internal/consumers/{user_no}"]["get"]["responses"])
    loans = document["paths"]["/my/loans"]["get"]
    assert {"200", "401", "502", "503"} <= set(loans["responses"]) and loans["security"] == [{"bearerAuth": []}]

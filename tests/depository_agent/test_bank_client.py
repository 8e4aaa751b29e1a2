"""The agent's client of the bank's /service: its form body is exactly what urlencode writes (written faster);
it asks under the bank URL's path, once, and a late, garbled or missing answer is None, never a retry."""
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, strategies as st

from depository_agent.bank_client import BankService, form_body
from shared.contract import TRANSACTION_SERVICE_PATH
from tests.support.json_server import JsonServer
from tests.support.processes import free_port

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(st.dictionaries(st.sampled_from(["serviceName", "platformNo", "reqData", "signature"]), TEXT))
def test_the_form_body_is_urlencodes(form):
    assert form_body(form) == urlencode(form)
    assert dict(parse_qsl(form_body(form), keep_blank_values=True)) == form


@pytest.fixture
def bank():
    """A stand-in bank recording every request; ``delay`` seconds before each answer, ``body`` the answer."""
    seen, state = [], {"delay": 0.0, "body": {"respData": "r", "signature": "s"}}

    def answer(method: str, path: str, body: bytes):
        seen.append((method, path, dict(parse_qsl(body.decode()))))
        time.sleep(state["delay"])
        return 200, state["body"]
    server = JsonServer(answer)
    yield server, seen, state
    server.stop()


FORM = {"serviceName": "USER_AUTO_PRE_TRANSACTION", "platformNo": "WANXINP2P", "reqData": "a+b/c=", "signature": "s"}


def test_the_bank_is_asked_under_its_urls_path_once(bank):
    server, seen, _ = bank
    for base in (server.url, server.url + "/", server.url + "/bank", server.url + "/bank/"):
        seen.clear()
        service = BankService({"BANK_SANDBOX_URL": base, "BANK_SERVICE_TIMEOUT_SECONDS": 2})
        assert service.send(FORM) == {"respData": "r", "signature": "s"}
        prefix = "/bank" if "/bank" in base else ""
        assert seen == [("POST", prefix + TRANSACTION_SERVICE_PATH, FORM)], base


def test_an_answer_later_than_the_timeout_is_none_and_the_request_is_not_sent_again(bank):
    """The bank got the request and may have recorded it: no answer is None (the caller's 202 and the query
    settle it), never a second POST here."""
    server, seen, state = bank
    state["delay"] = 1.5
    service = BankService({"BANK_SANDBOX_URL": server.url, "BANK_SERVICE_TIMEOUT_SECONDS": 0.5})
    assert service.send(FORM) is None  # the answer, had it been waited for
    time.sleep(1.2)  # past the stand-in's answer: whatever urllib3 might still send
    assert len(seen) == 1


@pytest.mark.parametrize("body", [b"<html>proxy error</html>", b"[1, 2]", b""])
def test_an_answer_that_is_no_json_object_is_none(bank, body):
    server, _, state = bank
    state["body"] = body
    assert BankService({"BANK_SANDBOX_URL": server.url, "BANK_SERVICE_TIMEOUT_SECONDS": 2}).send(FORM) is None


def test_an_unreachable_bank_is_none():
    service = BankService({"BANK_SANDBOX_URL": f"http://127.0.0.1:{free_port()}", "BANK_SERVICE_TIMEOUT_SECONDS": 2})
    assert service.send(FORM) is None

"""POST /service as a protocol, against the real sandbox over HTTP: every answer signed by the bank and
naming its request, idempotent by requestNo, refusing another content under a used requestNo (20008),
expired requests (20007) and malformed ones (00003) without recording them, and giving no signed answer
at all to what is not the platform's request for the service named."""
import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

from shared.signing import encode_wanxin, load_key, sign
from shared.config import key_path

from tests.bank_sandbox.conftest import fetch_one, request_times

FREEZE, CANCEL, LOAN = "USER_AUTO_PRE_TRANSACTION", "CANCEL_PRE_TRANSACTION", "CONFIRM_LOAN"


def _lines(pool, request_no):
    return fetch_one(pool, "select count(*) from bank_transactions where request_no = %s", request_no)["count"]


def _recorded(pool, request_no):
    return fetch_one(pool, "select count(*) from bank_requests where request_no = %s", request_no)["count"]


def _tender(sandbox, platform, available="100.00"):
    borrower, lender = sandbox.open_user(), sandbox.open_user(available)
    project_no = sandbox.project(borrower, "1000.00")
    return lender, project_no, platform.freeze(lender, "10.00", "TENDER", project_no)


def test_the_answer_is_the_banks_signature_over_the_result_json(sandbox, platform, settings):
    lender, _, tender = _tender(sandbox, platform)
    answer = sandbox.post_service(FREEZE, tender)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert list(body) == ["respData", "signature"]
    raw = base64.b64decode(body["respData"], validate=True)
    assert raw == json.dumps({"requestNo": tender["requestNo"], "respCode": "00000", "respMsg": "success",
                              "status": 1}, separators=(",", ":")).encode()
    assert platform.read_answer(body) == json.loads(raw)
    # the bank's key signed it, over the JSON bytes (not the Base64), with SIGN_HASH
    bank_private = load_key(key_path(settings, "BANK_PRIVATE_KEY_PATH", "bank_private.pem"))
    assert base64.b64decode(body["signature"]) == sign(bank_private, raw, settings["SIGN_HASH"])
    assert encode_wanxin(json.loads(raw), platform.private)[1] != body["signature"]


def test_the_same_request_again_answers_the_same_and_moves_nothing_more(sandbox, platform, pool):
    lender, _, tender = _tender(sandbox, platform)
    first = sandbox.post_service(FREEZE, tender).json()
    assert platform.read_answer(first)["respCode"] == "00000"
    after_first = sandbox.balances(lender)
    repeated = sandbox.post_service(FREEZE, tender)
    assert repeated.status_code == 200 and repeated.json() == first  # the same bytes, the same signature
    # signed again with a new lifetime, it is the same request
    resigned = sandbox.post_service(FREEZE, {**tender, **request_times(expires_in=900)})
    assert resigned.status_code == 200 and resigned.json() == first
    assert sandbox.balances(lender) == after_first == (9000, 1000)
    assert _lines(pool, tender["requestNo"]) == 1
    # a refusal is recorded as well: the same request is refused the same way, even once it could pass
    too_much = platform.freeze(lender, "90.01", "TENDER", tender["projectNo"])
    assert sandbox.code(FREEZE, too_much) == "30042"
    sandbox.confirm("RECHARGE", platform.recharge(lender, "1.00"))
    assert sandbox.code(FREEZE, too_much) == "30042"
    assert sandbox.balances(lender) == (9100, 1000)


def test_a_requestno_used_for_another_request_is_refused_and_moves_nothing(sandbox, platform, pool):
    lender, project_no, tender = _tender(sandbox, platform)
    assert sandbox.code(FREEZE, tender) == "00000"
    before = sandbox.snapshot([lender])
    other = {**tender, "amount": "20.00"}
    status, result = sandbox.call(FREEZE, other)
    assert (status, result["requestNo"], result["respCode"], result["status"]) == (409, tender["requestNo"], "20008", 2)
    cancel_under_it = platform.cancel(tender["requestNo"], lender, "10.00", requestNo=tender["requestNo"])
    assert sandbox.call(CANCEL, cancel_under_it)[1]["respCode"] == "20008"
    assert sandbox.snapshot([lender]) == before
    assert sandbox.code(FREEZE, tender) == "00000"  # the original keeps its answer
    query = sandbox.query(tender["requestNo"])
    assert query.status_code == 200 and platform.read_notification(query.json())["respCode"] == "00000"

    # one requestNo space with the gateway: a recharge's requestNo is taken (refused unsigned: the bank signs
    # no transaction service's result about a gateway request, whose bytes travel through browsers), and a
    # service's requestNo is no recharge
    recharge = platform.recharge(lender, "5.00")
    assert sandbox.session.get(f"{sandbox.url}/gateway", params=platform.gateway_params("RECHARGE", recharge),
                               timeout=10).status_code == 200
    freeze = platform.freeze(lender, "1.00", "TENDER", project_no, requestNo=recharge["requestNo"])
    for attempt in (freeze, recharge):  # another request under its number, and the recharge's own bytes
        answer = sandbox.post_service(FREEZE, attempt)
        assert answer.status_code == 409 and set(answer.json()) == {"code", "msg"}, answer.text
    stolen = platform.recharge(lender, "5.00", requestNo=tender["requestNo"])
    assert sandbox.session.post(f"{sandbox.url}/sandbox/confirm", json=platform.confirm_body("RECHARGE", stolen),
                                timeout=10).status_code == 409
    assert sandbox.snapshot([lender]) == before


def test_an_expired_request_is_refused_signed_moves_nothing_and_is_recorded_nowhere(sandbox, platform, pool):
    lender, project_no, _ = _tender(sandbox, platform)
    before = sandbox.snapshot([lender])
    stale = platform.freeze(lender, "10.00", "TENDER", project_no, **request_times(expires_in=-1))
    status, result = sandbox.call(FREEZE, stale)
    assert (status, result["requestNo"], result["respCode"], result["status"]) == (400, stale["requestNo"], "20007", 2)
    assert _recorded(pool, stale["requestNo"]) == 0 and sandbox.query(stale["requestNo"]).status_code == 404
    assert sandbox.snapshot([lender]) == before
    # even an expired request that would also be malformed, or of no project, is 20007: checked first
    broken = platform.freeze(lender, "10.0", "TENDER", platform.project_no(), **request_times(expires_in=-1))
    assert sandbox.call(FREEZE, broken)[1]["respCode"] == "20007"
    in_time = platform.freeze(lender, "10.00", "TENDER", project_no, **request_times(expires_in=2))
    assert sandbox.code(FREEZE, in_time) == "00000"


def test_a_request_answered_before_its_expiry_keeps_its_answer_after_it(sandbox, platform):
    lender, project_no, _ = _tender(sandbox, platform)
    payload = platform.freeze(lender, "10.00", "TENDER", project_no, **request_times(expires_in=2))
    first = sandbox.post_service(FREEZE, payload).json()
    time.sleep(3.2)
    late = sandbox.post_service(FREEZE, payload)
    assert late.status_code == 200 and late.json() == first  # never 20007 for a request the bank did
    assert sandbox.balances(lender) == (9000, 1000)


def test_what_is_not_the_platforms_request_for_the_service_gets_no_signed_answer(sandbox, platform, settings, pool):
    lender, _, tender = _tender(sandbox, platform)
    genuine = platform.gateway_params(FREEZE, tender)
    bank_key = load_key(key_path(settings, "BANK_PRIVATE_KEY_PATH", "bank_private.pem"))
    body = json.dumps(tender, separators=(",", ":"))
    twice = body[:-1] + ',"amount":"1.00"}'
    malformed = {
        "signed by another key": platform.gateway_params(FREEZE, tender, key=bank_key),
        "another platform": {**genuine, "platformNo": "OTHERP2P"},
        "an unknown service": {**genuine, "serviceName": "TRANSFER"},
        "a gateway service": {**genuine, "serviceName": "RECHARGE"},
        "another service's name": {**genuine, "serviceName": CANCEL},
        "another service's name (loan)": {**genuine, "serviceName": LOAN},
        "a field left out": platform.gateway_params(FREEZE, {k: v for k, v in tender.items() if k != "bizType"}),
        "a field of another service": platform.gateway_params(FREEZE, {**tender, "commission": "0.00"}),
        "a name given twice": {**genuine, "reqData": base64.b64encode(twice.encode()).decode(),
                               "signature": base64.b64encode(sign(platform.private, twice.encode())).decode()},
        "a signature re-cut": {**genuine, "signature": genuine["signature"].rstrip("=") + "A"},
        "a blank inside": {**genuine, "reqData": genuine["reqData"][:8] + "\n" + genuine["reqData"][8:]},
        "no signature": {**genuine, "signature": ""},
    }
    before = sandbox.snapshot([lender])
    for name, form in malformed.items():
        answer = sandbox.session.post(f"{sandbox.url}/service", data=form, timeout=10)
        assert answer.status_code == 400, (name, answer.text)
        assert set(answer.json()) == {"code", "msg"}, name
    assert _recorded(pool, tender["requestNo"]) == 0 and sandbox.snapshot([lender]) == before
    assert sandbox.code(FREEZE, tender) == "00000"  # the genuine request is still taken, once
    assert sandbox.balances(lender) == (9000, 1000)


def test_a_signed_request_with_a_malformed_requestno_is_refused_naming_none(sandbox, platform, pool):
    lender, _, tender = _tender(sandbox, platform)
    for request_no in ("REQ_abc", "req_" + "A" * 32, 12, "REQ_" + "A" * 32 + "\n"):
        status, result = sandbox.call(FREEZE, {**tender, "requestNo": request_no})
        assert (status, result["requestNo"], result["respCode"], result["status"]) == (400, "", "00003", 2)
    assert sandbox.balances(lender) == (10000, 0)


def test_the_query_answers_for_the_transaction_services_with_the_same_result(sandbox, platform):
    lender, project_no, tender = _tender(sandbox, platform)
    refused = platform.freeze(lender, "100.01", "TENDER", project_no)
    for payload in (tender, refused):
        _, result = sandbox.call(FREEZE, payload)
        query = sandbox.query(payload["requestNo"])
        assert query.status_code == 200
        assert (query.json()["serviceName"], query.json()["platformNo"]) == (FREEZE, "WANXINP2P")
        assert platform.read_notification(query.json()) == result
    assert [sandbox.call(FREEZE, payload)[1]["respCode"] for payload in (tender, refused)] == ["00000", "30042"]


def test_copies_of_a_request_sent_at_once_run_once(sandbox, platform, pool):
    lender, _, tender = _tender(sandbox, platform)
    with ThreadPoolExecutor(8) as executor:
        answers = list(executor.map(lambda _: sandbox.post_service(FREEZE, tender), range(16)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1
    assert sandbox.balances(lender) == (9000, 1000) and _lines(pool, tender["requestNo"]) == 1


def test_a_transaction_services_request_has_no_bank_page_form(sandbox, platform):
    _, _, tender = _tender(sandbox, platform)
    assert sandbox.code(FREEZE, tender) == "00000"
    form = sandbox.session.post(f"{sandbox.url}/gateway/confirm", timeout=10, headers={"Accept": "application/json"},
                                data={"requestNo": tender["requestNo"], "token": "x", "password": "246810"})
    assert form.status_code == 404 and form.json()["code"] == 908
    confirm = sandbox.session.post(f"{sandbox.url}/sandbox/confirm", timeout=10,
                                   json=platform.confirm_body(FREEZE, tender))
    assert confirm.status_code == 400  # its fields are no gateway service's

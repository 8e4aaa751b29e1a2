"""Property: of all the ways to write a genuine signed POST /service request otherwise (its Base64 respelt,
its JSON rewritten and signed again, an amount inside its details spelt otherwise) or to name it as
another service, the real bank (gunicorn) accepts none that could mean something else, refuses them
without recording them or moving money, and whatever it accepts has exactly the genuine effect; the
genuine request afterwards is taken once.

Each example builds a fresh request of one service (a tender, a cancel, a loan or a project), brings
one variant of it (tests/support/wanxin_variants.py), then the genuine request.
"""
import base64
import json

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from shared.signing import sign

from tests.bank_sandbox.conftest import fetch_one
from tests.support.wanxin_variants import Variant, genuine, variants

pytestmark = pytest.mark.e2e

FREEZE, CANCEL, LOAN, PROJECT = ("USER_AUTO_PRE_TRANSACTION", "CANCEL_PRE_TRANSACTION", "CONFIRM_LOAN",
                                 "CREATE_PROJECT")
SERVICES = (FREEZE, CANCEL, LOAN, PROJECT)
CLAIMABLE = ("CREATE_PROJECT", "MODIFY_PROJECT", FREEZE, CANCEL, LOAN, "CONFIRM_REPAYMENT", "RECHARGE")
OTHER_FIELDS = {
    FREEZE: {"commission": "0.00", "preRequestNo": "REQ_" + "A" * 32, "callbackUrl": "http://frontend.test/x"},
    CANCEL: {"bizType": "TENDER", "projectNo": "PRJ_1", "commission": "0.00"},
    LOAN: {"preRequestNo": "REQ_" + "A" * 32, "userNo": "USR_" + "A" * 32, "amount": "1.00"},
    PROJECT: {"amount": "1.00", "bizType": "TENDER", "projectStatus": "FULLY"},
}
DETAIL_SPELLINGS = ["3.0", "03.00", " 3.00", "3.00 ", "+3.00", "3.000", "3", 3, 3.0, "300", "3E0"]


@pytest.fixture(scope="module")
def parties(http_bank, platform):
    """A borrower with a project of 100,000.00 and a lender with 50,000.00 at the bank."""
    from tests.bank_sandbox.bank_client import BankClient
    from tests.bank_sandbox.conftest import PASSWORD

    client = BankClient(http_bank.url, platform, PASSWORD)
    borrower, lender = client.open_user(), client.open_user("50000.00")
    return client, borrower, lender, client.project(borrower, "100000.00")


def _example(client, platform, service: str, borrower: str, lender: str, project_no: str) -> tuple[dict, dict]:
    """A fresh genuine request of ``service`` and what it moves when taken: {userNo: (available, frozen)}."""
    if service == FREEZE:
        return platform.freeze(lender, "10.00", "TENDER", project_no), {lender: (-1000, 1000)}
    if service == CANCEL:
        held = client.freeze(lender, "5.00", "TENDER", project_no)
        return platform.cancel(held, lender, "5.00"), {lender: (500, -500)}
    if service == LOAN:
        held = client.freeze(lender, "3.00", "TENDER", project_no)
        return platform.loan(project_no, "0.10", [(held, "3.00")]), {lender: (0, -300), borrower: (290, 0)}
    return platform.project(borrower, "1.00"), {}


@st.composite
def detail_respelt(draw, payload: dict, key) -> Variant:
    """The loan's detail amount spelt otherwise, signed again: another text, which must be refused."""
    spelling = draw(st.sampled_from(DETAIL_SPELLINGS))
    changed = {**payload, "details": [{**payload["details"][0], "amount": spelling}]}
    body = json.dumps(changed, ensure_ascii=False).encode()
    return Variant(f"details[0].amount as {spelling!r}", base64.b64encode(body).decode(),
                   base64.b64encode(sign(key, body)).decode(), True)


def _bring(client, service: str, variant: Variant):
    form = {"serviceName": service, "platformNo": "WANXINP2P", "reqData": variant.req_data,
            "signature": variant.signature}
    if variant.raw_query:  # unencoded in the form body: a '+' arrives as a space
        return client.session.post(f"{client.url}/service", data="&".join(f"{k}={v}" for k, v in form.items()),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    return client.session.post(f"{client.url}/service", data=form, timeout=30)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), service=st.sampled_from(SERVICES), claim_other=st.booleans())
def test_no_other_writing_of_a_service_request_means_anything_else(parties, platform, pool, data, service,
                                                                   claim_other):
    client, borrower, lender, project_no = parties
    payload, moves = _example(client, platform, service, borrower, lender, project_no)
    strategy = variants(payload, platform.private, OTHER_FIELDS[service])
    if service == LOAN:
        strategy = st.one_of(strategy, detail_respelt(payload, platform.private))
    variant = data.draw(strategy, label="variant")
    claimed = data.draw(st.sampled_from([name for name in CLAIMABLE if name != service]), label="claimed") \
        if claim_other else service
    must_refuse = variant.must_refuse or claimed != service
    before = client.many_balances([borrower, lender])

    answer = _bring(client, claimed, variant)
    event(f"{'accepted' if answer.status_code == 200 else 'refused'}: {variant.name.split(' (')[0]}"
          + ("" if claimed == service else ", as another service"))
    recorded = fetch_one(pool, "select service_name, payload, status from bank_requests where request_no = %s",
                         payload["requestNo"])
    if must_refuse:
        assert 400 <= answer.status_code < 500, (variant.name, claimed, answer.status_code, answer.text[:300])
    if answer.status_code == 200:
        assert platform.read_answer(answer.json()) == {"requestNo": payload["requestNo"], "respCode": "00000",
                                                       "respMsg": "success", "status": 1}, variant.name
        assert (recorded["service_name"], recorded["payload"], recorded["status"]) == (service, payload, 1)
    else:
        assert 400 <= answer.status_code < 500, (variant.name, answer.status_code, answer.text[:300])
        assert recorded is None, variant.name
        assert client.many_balances([borrower, lender]) == before
        if "respData" in answer.json():  # a signed refusal names at most this request, and is no success
            result = platform.read_answer(answer.json())
            assert result["requestNo"] in ("", payload["requestNo"]) and result["status"] == 2

    again = _bring(client, service, genuine(payload, platform.private))
    assert again.status_code == 200 and platform.read_answer(again.json())["respCode"] == "00000", again.text
    after = client.many_balances([borrower, lender])
    for user in (borrower, lender):
        moved = (after[user][0] - before[user][0], after[user][1] - before[user][1])
        assert moved == moves.get(user, (0, 0)), (variant.name, user)

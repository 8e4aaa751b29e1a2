"""``GET /my/loans``: the signed-in user's own loans and plans from lending's ``GET /internal/loans``, amounts
in yuan; lending down or answering garbage is a clear 503 or 502, never a 500."""
import pytest

from tests.user_center.standins import LendingStandIn, loan_of

from user_center.bootstrap import create_app


@pytest.fixture(scope="module")
def lending(infra):
    standin = LendingStandIn(infra.internal_token).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def loans_client(infra, ledger, agent, lending):
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  LENDING_URL=lending.url, SERVICE_TIMEOUT_SECONDS=2))
    return app.test_client()


@pytest.fixture(autouse=True)
def _lending_answers(lending):
    lending.answer = None
    yield
    lending.answer = None


def login(client, user) -> dict:
    token = client.post("/tokens", json={"mobile": user.mobile, "password": "secret-pass-1"}).json["result"]
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_my_loans_needs_a_user_token(loans_client, infra):
    assert loans_client.get("/my/loans").status_code == 401
    assert loans_client.get("/my/loans", headers={"Authorization": f"Bearer {infra.internal_token}"}).status_code \
        == 401


def test_a_user_sees_only_their_own_loans_in_yuan(loans_client, lending, make_user):
    owner, other = make_user(), make_user()
    lending.loans[owner.user_no] = [loan_of(owner.user_no)]
    answer = loans_client.get("/my/loans", headers=login(loans_client, owner))
    assert answer.status_code == 200 and lending.asked[-1] == owner.user_no
    [loan] = answer.json["result"]["loans"]
    assert {k: loan[k] for k in ("borrowNo", "status", "amount", "serviceFee", "term", "annualRate")} == {
        "borrowNo": "BRW_" + owner.user_no[4:], "status": 30, "amount": "3000.00", "serviceFee": "15.01", "term": 3,
        "annualRate": "0.18"}
    assert [line["principal"] for line in loan["plans"]] == ["1000.00"] * 3
    assert loan["plans"][0] == {"period": 1, "dueDate": "2027-01-01", "status": 1, "overdueDays": 0,
                                "principal": "1000.00", "interest": "45.01", "penalty": "0.00", "total": "1045.01",
                                "paid": "1045.01"}
    theirs = loans_client.get("/my/loans", headers=login(loans_client, other))
    assert theirs.json["result"] == {"loans": []} and lending.asked[-1] == other.user_no
    # a query string cannot ask for someone else's loans
    loans_client.get(f"/my/loans?userNo={owner.user_no}", headers=login(loans_client, other))
    assert lending.asked[-1] == other.user_no


def test_lending_down_is_a_503_with_the_reason(loans_client, lending, make_user):
    headers = login(loans_client, make_user())
    lending.stop()
    try:
        answer = loans_client.get("/my/loans", headers=headers)
    finally:
        lending.start()
    assert answer.status_code == 503 and answer.json["code"] == 950 and "lending is unreachable" in answer.json["msg"]
    lending.answer = (500, {"code": 999, "msg": "boom"})
    answer = loans_client.get("/my/loans", headers=headers)
    assert answer.status_code == 503 and "lending answered 500" in answer.json["msg"]


@pytest.mark.parametrize("body", [
    "not json", [], {"loans": "x"}, {"loans": [1]}, {"loans": [{"borrowNo": "B"}]},
    {"loans": [{**loan_of("USR_" + "0" * 32), "amount": 12.5}]},
    {"loans": [{**loan_of("USR_" + "0" * 32), "amount": "3000.00"}]},
    {"loans": [{**loan_of("USR_" + "0" * 32), "status": True}]},
    {"loans": [{**loan_of("USR_" + "0" * 32), "plans": None}]},
    {"loans": [{**loan_of("USR_" + "0" * 32), "plans": [{"period": 1}]}]}])
def test_a_garbled_answer_from_lending_is_a_502(loans_client, lending, make_user, body):
    lending.answer = (200, body)
    answer = loans_client.get("/my/loans", headers=login(loans_client, make_user()))
    assert answer.status_code == 502 and answer.json["code"] == 952, answer.json


def test_lending_refusing_user_centers_token_is_a_502_not_the_users_fault(loans_client, lending, make_user):
    lending.answer = (401, {"code": 901, "msg": "service token required"})
    answer = loans_client.get("/my/loans", headers=login(loans_client, make_user()))
    assert answer.status_code == 502

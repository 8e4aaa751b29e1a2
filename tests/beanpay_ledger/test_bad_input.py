"""Bad input on every endpoint gets its 4xx with {code, msg} and changes nothing in the database."""
import pytest

from tests.beanpay_ledger.conftest import new_id

EID = new_id("bad")
GHOST = new_id("ghost")
AMOUNT_BAD = [0, -1, "1.5", 1.5, 10**13, "abc", "", True, "1e3"]
ID_BAD = ["", "a b", "x" * 65]
TRADE_NO_BAD = ["", "a b", "x" * 129]
PAGE_BAD = {"pi": [0, "x"], "ps": [0, 101, "1.5"], "start": ["2024-13-01", "x"], "end": ["20241301"]}
PKG = {"eid": EID, "spkg_id": "P"}

# endpoint -> (valid parameters, {field: bad values}); a missing required field is always tried too.
ENDPOINTS = {
    "/account/create": ({"eid": new_id("new"), "name": "n", "credit": 5},
                        {"eid": ID_BAD, "name": ["x" * 129, "a\x00"], "credit": [-1, "1.5", 10**13, "abc"]}),
    "/account/query": ({"eid": EID}, {"eid": ID_BAD}),
    "/account/lock": ({"eid": EID}, {"eid": ID_BAD}),
    "/account/unlock": ({"eid": EID}, {"eid": ID_BAD}),
    "/account/balance/query": ({"eid": EID}, {"eid": ID_BAD}),
    "/account/balance/add": ({"eid": EID, "trade_no": "n1", "amount": 1}, {"eid": ID_BAD, "trade_no": TRADE_NO_BAD,
                                                                          "amount": AMOUNT_BAD}),
    "/account/balance/deduct": ({"eid": EID, "trade_no": "n2", "amount": 1}, {"eid": ID_BAD, "trade_no": TRADE_NO_BAD,
                                                                             "amount": AMOUNT_BAD}),
    "/account/balance/refund": ({"eid": EID, "trade_no": "D", "amount": 1}, {"eid": ID_BAD, "trade_no": TRADE_NO_BAD,
                                                                            "amount": AMOUNT_BAD}),
    "/account/record/query": ({"eid": EID}, {"eid": ID_BAD, "change_type": [0, 4, "x"], **PAGE_BAD}),
    "/package/create": ({**PKG, "spkg_id": "P2", "name": "n", "total": 1, "expires": "20991231"},
                        {"spkg_id": ID_BAD, "total": [-1, "1.5", 10**13], "daily": [0, "x"],
                         "expires": ["20991301", "2099123", "x"]}),
    "/package/query": (PKG, {"spkg_id": ID_BAD}),
    "/package/capacity/query": (PKG, {"spkg_id": ID_BAD}),
    "/package/capacity/add": ({**PKG, "trade_no": "n3", "num": 1}, {"spkg_id": ID_BAD, "num": AMOUNT_BAD}),
    "/package/capacity/deduct": ({**PKG, "trade_no": "n4", "num": 1}, {"trade_no": TRADE_NO_BAD, "num": AMOUNT_BAD}),
    "/package/capacity/refund": ({**PKG, "trade_no": "PD", "num": 1}, {"trade_no": TRADE_NO_BAD, "num": AMOUNT_BAD}),
    "/package/record/query": (PKG, {"spkg_id": ID_BAD, "change_type": [5], **PAGE_BAD}),
}
OPTIONAL = {"credit", "daily", "change_type", "pi", "ps", "start", "end"}


def _cases():
    for path, (valid, bad) in ENDPOINTS.items():
        for field in valid:
            if field not in OPTIONAL:
                yield pytest.param(path, {k: v for k, v in valid.items() if k != field}, 400, id=f"{path}-no-{field}")
        for field, values in bad.items():
            for value in values:
                yield pytest.param(path, {**valid, field: value}, 400, id=f"{path}-{field}={str(value)[:12]!r}")
        if path != "/account/create":
            yield pytest.param(path, {**valid, "eid": GHOST}, 404, id=f"{path}-unknown-eid")
    for body in ({}, {"operations": "x"}, {"operations": []}, {"operations": [{"op": "add"}] * 1001}):
        yield pytest.param("/account/balance/batch", body, 400, id=f"batch-{str(body)[:20]}")


@pytest.fixture(scope="module")
def world(api):
    """The account, deduct D, package P and package deduct PD the valid parameters refer to."""
    api.post("/account/create", {"eid": EID, "name": "n"})
    api.post("/account/balance/add", {"eid": EID, "trade_no": "A", "amount": 100})
    api.post("/account/balance/deduct", {"eid": EID, "trade_no": "D", "amount": 10})
    api.post("/package/create", {**PKG, "name": "n", "total": 5, "expires": "20991231"})
    api.post("/package/capacity/deduct", {**PKG, "trade_no": "PD", "num": 1})


def _snapshot(db):
    return db.execute(
        "select (select count(*) from account), (select coalesce(sum(balance), 0) from account),"
        " (select count(*) from account where status = 1), (select count(*) from account_record),"
        " (select count(*) from package), (select coalesce(sum(total_remain), 0) from package),"
        " (select count(*) from package_record)").fetchone()


def _call(api, method, path, params, headers=None):
    extra = {} if headers is None else {"headers": headers}
    if method == "GET":
        return api.get(path, params, **extra)
    return api.post(path, params, **extra)


CASES = [pytest.param(method, *case.values, id=f"{method}-{case.id}") for case in _cases()
         for method in ("GET", "POST") if method == "POST" or not case.values[0].endswith("/batch")]


@pytest.mark.parametrize("method, path, params, status", CASES)
def test_bad_input_is_refused_and_changes_nothing(api, db, world, method, path, params, status):
    before = _snapshot(db)
    answer_status, body = _call(api, method, path, params)
    assert answer_status == status, body
    assert set(body) == {"code", "msg"} and body["code"] == {400: 903, 404: 908}[status]
    assert _snapshot(db) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}],
                         ids=["none", "wrong", "scheme"])
@pytest.mark.parametrize("path", [*ENDPOINTS, "/account/balance/batch"])
def test_service_token_is_required(api, db, world, path, headers):
    params = ENDPOINTS[path][0] if path in ENDPOINTS else {
        "operations": [{"op": "add", "eid": EID, "trade_no": "z", "amount": 1}]}
    before = _snapshot(db)
    status, body = _call(api, "POST", path, params, headers=headers)
    assert (status, body["code"]) == (401, 901)
    assert _snapshot(db) == before


def test_malformed_bodies_are_400(api, ledger_app, infra, db, world):
    client = ledger_app.test_client()
    headers = {"Authorization": f"Bearer {infra.internal_token}", "Content-Type": "application/json"}
    before = _snapshot(db)
    for data in ("{not json", "[1, 2]", '"text"', "null"):
        response = client.post("/account/balance/add", data=data, headers=headers)
        assert response.status_code == 400, data
    assert _snapshot(db) == before

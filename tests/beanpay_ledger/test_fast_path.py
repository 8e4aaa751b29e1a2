"""The posting fast path (WSGI middleware) answers exactly as the documented Flask views behind it."""
import json

import pytest
from werkzeug.test import Client

from tests.beanpay_ledger.conftest import new_id

PATHS = ("/account/balance/add", "/account/balance/deduct", "/account/balance/refund")
BODIES = ["{not json", "[1, 2]", '"text"', "null", "", "{}", '{"eid": null, "trade_no": 5, "amount": true}',
          '{"eid": "a b", "trade_no": "", "amount": 0}', '{"eid": "E", "trade_no": "t", "amount": "1.5"}',
          '{"eid": "E", "trade_no": "t", "amount": 10000000000000}', '{"eid": "E", "trade_no": "t", "amount": [1]}',
          '{"eid": "E", "trade_no": "t\\u0000", "amount": 1}', '{"eid": "ghost", "trade_no": "t", "amount": 1}',
          '{"eid": "E", "trade_no": "nodeduct", "amount": 1}', '{"eid": "E", "trade_no": "big", "amount": 999999}']
QUERIES = ["", "eid=E", "eid=E&trade_no=q&amount=-5", "eid=E&trade_no=q&amount=%2B5", "eid=E&trade_no=q&amount=1.0",
           "eid=ghost&trade_no=q&amount=5", "eid=E&eid=x&trade_no=q&amount=abc"]
# Text that is not UTF-8, NUL, names given twice, absurd numbers: refused alike (or read alike) on both paths.
HOSTILE_QUERIES = ["eid=E&trade_no=%FF&amount=1", "eid=E&trade_no=%B6%A9%B5%A5&amount=1", "eid=E&trade_no=a%00&amount=1",
                   "eid=E&trade_no=%ED%A0%80&amount=1", "%FF=1&eid=E&trade_no=q&amount=1",
                   "eid=E&trade_no=q&amount=1&amount=2", "eid=E&trade_no=q&trade_no=r&amount=1",
                   "eid=E&trade_no=%E4%B8%AD+%2B&amount=1", "eid=E&trade_no=q2&amount=1&x=a&x=b",
                   "eid=E&trade_no=q3&amount=" + "9" * 5000, "eid=E&trade_no=q4&amount=1&&=&junk"]
HOSTILE_BODIES = [b'{"eid": "E", "trade_no": "t\\ud800", "amount": 1}', b'{"eid": "E", "trade_no": "t\\u0000", "amount": 1}',
                  b'{"eid": "E", "trade_no": "t", "amount": 1, "amount": 2}', b'{"eid": "E", "trade_no": "\xff", "amount": 1}',
                  b'{"eid": "E", "trade_no": "t", "amount": ' + b"9" * 5000 + b"}",
                  b'{"eid": "E", "trade_no": "t", "amount": NaN}', b'{"eid": "E", "trade_no": "t", "amount": 1e999}',
                  b"[" * 5000, b'{"eid": "E", "x": ' + b"[" * 40 + b"]" * 40 + b"}", b"\xef\xbb\xbf{}",
                  '{"eid": "E", "trade_no": "t"}'.encode("utf-16"), b'{"eid": "E", "trade_no": "\\ud83d\\ude00", "amount": 3}']
CONTENT_TYPES = ["application/json; charset=gbk", "application/json; charset=utf-8", "application/merge-patch+json",
                 "text/plain", "application/x-www-form-urlencoded; charset=gbk"]


def _answer(response):
    return (response.status_code, response.get_json(silent=True), response.headers["Content-Type"],
            response.headers.get("X-Request-Id"))


def _assert_alike(fast, flask_only, case):
    """The same answer; a posting the fast path made is a replay (201, same record) for the views."""
    if fast[0] == 200:
        assert flask_only == (201, *fast[1:]), case
    else:
        assert fast == flask_only, case


@pytest.fixture
def clients(ledger_app, infra):
    """(fast path, Flask views only) clients, and the headers to send."""
    headers = {"Authorization": f"Bearer {infra.internal_token}", "X-Request-Id": "same-id"}
    return ledger_app.test_client(), Client(ledger_app.wsgi_app.flask_wsgi_app), headers


@pytest.mark.parametrize("path", PATHS)
def test_answers_are_alike(clients, account, path):
    fast, flask_only, headers = clients
    for body in BODIES:
        body = body.replace('"E"', json.dumps(account))
        _assert_alike(*[_answer(client.post(path, data=body, headers={**headers, "Content-Type": "application/json"}))
                        for client in (fast, flask_only)], body)
    for query in QUERIES:
        _assert_alike(*[_answer(client.get(f"{path}?{query.replace('eid=E', f'eid={account}')}", headers=headers))
                        for client in (fast, flask_only)], query)
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        answers = [_answer(client.post(path, json={"eid": account, "trade_no": "t", "amount": 1}, headers=auth))
                   for client in (fast, flask_only)]
        assert answers[0][:3] == answers[1][:3] and answers[0][0] == 401


@pytest.mark.parametrize("path", PATHS)
def test_hostile_input_is_answered_alike(clients, account, path):
    fast, flask_only, headers = clients
    json_headers = {**headers, "Content-Type": "application/json"}
    for query in HOSTILE_QUERIES:
        query = query.replace("eid=E", f"eid={account}")
        _assert_alike(*[_answer(client.get(f"{path}?{query}", headers=headers)) for client in (fast, flask_only)],
                      query)
        _assert_alike(*[_answer(client.post(f"{path}?{query}", data=json.dumps({"eid": account}), headers=json_headers))
                        for client in (fast, flask_only)], f"POST ?{query}")
    for body in HOSTILE_BODIES:
        body = body.replace(b'"E"', json.dumps(account).encode())
        _assert_alike(*[_answer(client.post(path, data=body, headers=json_headers)) for client in (fast, flask_only)],
                      body[:80])
    for content_type in CONTENT_TYPES:
        body = json.dumps({"eid": account, "trade_no": content_type, "amount": 1})
        _assert_alike(*[_answer(client.post(path, data=body, headers={**headers, "Content-Type": content_type}))
                        for client in (fast, flask_only)], content_type)


def test_postings_are_one_and_the_same(clients, funded, db):
    fast, flask_only, headers = clients
    for first, then in ((fast, flask_only), (flask_only, fast)):
        trade_no = new_id("t")
        for path in PATHS:
            body = {"eid": funded, "trade_no": trade_no, "amount": 5}
            posted = _answer(first.post(path, json=body, headers=headers))
            replayed = _answer(then.get(path, query_string=body, headers=headers))
            assert (posted[0], replayed[0]) == (200, 201) and posted[1:] == replayed[1:], path
    assert db.execute("select balance from account where eid = %s", (funded,)).fetchone()[0] == 10_010


def test_fast_path_requests_are_counted_in_metrics(clients, account):
    fast, _, headers = clients

    def added() -> float:
        text = fast.get("/metrics").get_data(as_text=True)
        prefix = 'http_requests_total{endpoint="/account/balance/add",method="POST",service="beanpay-ledger",status="200"}'
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    before = added()
    response = fast.post("/account/balance/add", json={"eid": account, "trade_no": new_id(), "amount": 5},
                         headers=headers)
    assert response.status_code == 200
    assert added() == before + 1

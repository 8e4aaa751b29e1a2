"""The API shell (api/shell.py) answers every endpoint in one way: a posting alike whatever the method and body
type, hostile input refused alike on every endpoint, the method, the token and the metrics handled once."""
import json
from urllib.parse import urlencode

import pytest

from tests.beanpay_ledger.conftest import new_id

PATHS = ("/account/balance/add", "/account/balance/deduct", "/account/balance/refund")
# Parameters as text, so that a query string, a form and a JSON body carry the very same values.
CASES = [{}, {"eid": "E"}, {"eid": "E", "trade_no": "q", "amount": "-5"}, {"eid": "E", "trade_no": "q", "amount": "+5"},
         {"eid": "E", "trade_no": "q", "amount": "1.0"}, {"eid": "E", "trade_no": "q", "amount": "0"},
         {"eid": "E", "trade_no": "q", "amount": "10000000000000"}, {"eid": "a b", "trade_no": "", "amount": "x"},
         {"eid": "ghost", "trade_no": "q", "amount": "5"}, {"eid": "E", "trade_no": "t" * 129, "amount": "5"},
         {"eid": "E", "trade_no": "nodeduct", "amount": "7"}, {"eid": "E", "trade_no": "big", "amount": "999999"},
         {"eid": "E", "trade_no": "中 +", "amount": "3", "other": "ignored"}]
# Text that is not UTF-8, NUL, names given twice, absurd numbers: refused alike (or read alike) everywhere.
HOSTILE_QUERIES = ["eid=E&trade_no=%FF&amount=1", "eid=E&trade_no=%B6%A9%B5%A5&amount=1", "eid=E&trade_no=a%00&amount=1",
                   "eid=E&trade_no=%ED%A0%80&amount=1", "%FF=1&eid=E&trade_no=q&amount=1",
                   "eid=E&trade_no=q&amount=1&amount=2", "eid=E&trade_no=q&trade_no=r&amount=1",
                   "eid=E&trade_no=%E4%B8%AD+%2B&amount=1", "eid=E&trade_no=q2&amount=1&x=a&x=b",
                   "eid=E&trade_no=q3&amount=" + "9" * 5000, "eid=E&trade_no=q4&amount=1&&=&junk"]
HOSTILE_BODIES = [b"{not json", b"[1, 2]", b'"text"', b"null", b'{"eid": null, "trade_no": 5, "amount": true}',
                  b'{"eid": "E", "trade_no": "t", "amount": [1]}', b'{"eid": "E", "trade_no": "t\\ud800", "amount": 1}',
                  b'{"eid": "E", "trade_no": "t\\u0000", "amount": 1}', b'{"eid": "E", "trade_no": "\xff", "amount": 1}',
                  b'{"eid": "E", "trade_no": "t", "amount": 1, "amount": 2}',
                  b'{"eid": "E", "trade_no": "t", "amount": ' + b"9" * 5000 + b"}",
                  b'{"eid": "E", "trade_no": "t", "amount": NaN}', b'{"eid": "E", "trade_no": "t", "amount": 1e999}',
                  b"[" * 5000, b'{"eid": "E", "x": ' + b"[" * 40 + b"]" * 40 + b"}", b"\xef\xbb\xbf{}",
                  '{"eid": "E", "trade_no": "t"}'.encode("utf-16"), b'{"eid": "E", "trade_no": "\\ud83d\\ude00", "amount": 3}']
CONTENT_TYPES = ["application/json; charset=gbk", "application/json; charset=utf-8", "application/merge-patch+json",
                 "text/plain", "application/x-www-form-urlencoded; charset=gbk", "multipart/form-data; boundary=x"]


def _answer(response):
    return (response.status_code, response.get_data(as_text=True), response.headers["Content-Type"],
            response.headers.get("X-Request-Id"), response.headers.get("Cache-Control"))


@pytest.fixture
def client(ledger_app):
    return ledger_app.test_client()


@pytest.fixture
def headers(infra):
    return {"Authorization": f"Bearer {infra.internal_token}", "X-Request-Id": "same-id"}


@pytest.mark.parametrize("path", PATHS)
def test_a_posting_is_answered_alike_by_query_json_and_form(client, headers, funded, path):
    """GET, a JSON body and a form body go through one handler: the same answer for the same parameters (the
    first success 200, the same record again 201 after it)."""
    for case in CASES:
        params = {name: value.replace("E", funded) if name == "eid" else value for name, value in case.items()}
        answers = [_answer(client.get(f"{path}?{urlencode(params)}", headers=headers)),
                   _answer(client.post(path, json=params, headers=headers)),
                   _answer(client.post(path, data=urlencode(params), headers={
                       **headers, "Content-Type": "application/x-www-form-urlencoded"}))]
        first, *then = answers
        if first[0] == 200:
            assert then == [(201, *first[1:])] * 2, case
        else:
            assert then == [first] * 2, case
        assert first[2:] == ("application/json", "same-id", "no-store"), case


@pytest.mark.parametrize("path", PATHS)
def test_hostile_input_is_refused_alike_on_every_endpoint(client, headers, funded, path):
    """What the shell refuses it refuses with the same answer whichever endpoint is called (here: a posting and
    /account/balance/release, which take the same parameters); what it reads, both read."""

    def alike(send, case):
        posting, release = send(path), send("/account/balance/release")
        if "invalid input" in posting[1] or "invalid input" in release[1]:
            assert posting == release and posting[0] == 400, case
        else:  # both read it; the ledger's answer is each endpoint's own (a refund of no deduct is 404)
            assert posting[0] in (200, 201, 404) and release[0] in (200, 201), case

    json_headers = {**headers, "Content-Type": "application/json"}
    for query in HOSTILE_QUERIES:
        query = query.replace("eid=E", f"eid={funded}")
        alike(lambda target: _answer(client.get(f"{target}?{query}", headers=headers)), query)
        alike(lambda target: _answer(client.post(f"{target}?{query}", data=json.dumps({"eid": funded}),
                                                 headers=json_headers)), f"POST ?{query}")
    for body in HOSTILE_BODIES:
        body = body.replace(b'"E"', json.dumps(funded).encode())
        alike(lambda target: _answer(client.post(target, data=body, headers=json_headers)), body[:80])
    for content_type in CONTENT_TYPES:
        body = json.dumps({"eid": funded, "trade_no": content_type[:40], "amount": 1})
        alike(lambda target: _answer(client.post(target, data=body, headers={**headers, "Content-Type": content_type})),
              content_type)


def test_methods_and_the_token_are_checked_before_anything_is_read(client, headers, account):
    query = f"?eid={account}&trade_no=m&amount=1"
    for auth in (headers, {}):
        head = client.head(f"/account/balance/add{query}", headers=auth)
        assert (head.status_code, head.headers["Allow"], head.get_data()) == (405, "GET, POST", b"")
        put = client.put(f"/account/balance/add{query}", headers=auth)
        assert (put.status_code, put.get_json()["code"]) == (405, 905)
        assert set(put.headers["Allow"].split(", ")) == {"HEAD", "GET", "OPTIONS", "POST"}
        batch = client.get("/account/balance/batch", headers=auth)
        assert (batch.status_code, set(batch.headers["Allow"].split(", "))) == (405, {"OPTIONS", "POST"})
    assert client.options("/account/balance/add").status_code == 401
    options = client.options("/account/balance/add", headers=headers)
    assert (options.status_code, options.get_data()) == (200, b"")
    for wrong in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        refused = client.post("/account/balance/add", json={"eid": account, "trade_no": "t", "amount": 1}, headers=wrong)
        assert (refused.status_code, refused.get_json()["code"]) == (401, 901)
    big = client.post("/account/balance/add", data=b"x" * 600_000, headers={**headers, "Content-Type": "application/json"})
    assert (big.status_code, big.get_json()["code"]) == (413, 913)
    assert client.get("/account/balance/add", data=b"x" * 600_000,
                      headers=headers).status_code == 400  # a GET's body is never read
    assert client.get("/healthz").status_code == 200  # Flask's own paths
    assert client.get("/account/balance/nothing", headers=headers).status_code == 404


def test_a_posting_is_one_and_the_same_whichever_way_it_came(client, headers, funded, db):
    for first, then in (("json", "get"), ("form", "json"), ("get", "form")):
        body = {"eid": funded, "trade_no": new_id("t"), "amount": "5"}
        sent = {"json": lambda path: client.post(path, json=body, headers=headers),
                "form": lambda path: client.post(path, data=body, headers=headers),
                "get": lambda path: client.get(path, query_string=body, headers=headers)}
        for path in PATHS:
            posted, replayed = _answer(sent[first](path)), _answer(sent[then](path))
            assert (posted[0], replayed[0]) == (200, 201) and posted[1:] == replayed[1:], (path, first, then)
    assert db.execute("select balance from account where eid = %s", (funded,)).fetchone()[0] == 10_015


def test_every_answer_is_counted_in_the_metrics(client, headers, account):
    def counted(endpoint: str, status: int) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        prefix = (f'http_requests_total{{endpoint="{endpoint}",method="POST",service="beanpay-ledger",'
                  f'status="{status}"}}')
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)), 0.0)

    before = counted("/account/balance/add", 200), counted("/account/balance/add", 401), counted("/account/query", 200)
    assert client.post("/account/balance/add", json={"eid": account, "trade_no": new_id(), "amount": 5},
                       headers=headers).status_code == 200
    assert client.post("/account/balance/add", json={}).status_code == 401
    assert client.post("/account/query", json={"eid": account}, headers=headers).status_code == 200
    after = counted("/account/balance/add", 200), counted("/account/balance/add", 401), counted("/account/query", 200)
    assert after == tuple(count + 1 for count in before)

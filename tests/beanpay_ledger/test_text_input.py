"""How the ledger decodes what enters it, over real HTTP to gunicorn: queries, JSON and form bodies of every
endpoint and the batch read the same text from the same bytes, refuse what is not UTF-8 text with a 400
naming the reason, and one caller's bad input never touches another's posting."""
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

import pytest
import requests

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.real_server import running_ledger
from tests.shared import raw_http
from tests.support.processes import free_port

ADD, DEDUCT, REFUND = "/account/balance/add", "/account/balance/deduct", "/account/balance/refund"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def ledger(infra, tmp_path_factory):
    with running_ledger(infra, tmp_path_factory.mktemp("ledger-text")) as caller:
        yield caller


def _open(ledger, funds: int = 0, eid: str | None = None) -> str:
    eid = eid or new_id("txt")
    assert ledger.json("/account/create", {"eid": eid, "name": "text"}).status_code == 200
    if funds:
        assert ledger.json(ADD, {"eid": eid, "trade_no": "fund", "amount": funds}).status_code == 200
    return eid


def _refused(answer, reason: str) -> bool:
    status = getattr(answer, "status_code", None) or answer.status
    return status == 400 and reason in answer.json()["msg"]


def test_trade_numbers_in_another_encoding_are_refused_not_merged(ledger):
    """GBK text percent-escaped: a lenient decoder turns both into U+FFFD and the second looks applied."""
    eid = _open(ledger, 1000)
    for text in ("订单一", "订单二"):
        query = f"eid={eid}&trade_no={quote(text.encode('gbk'))}&amount=100"
        for answer in (ledger.get(DEDUCT, query), ledger.form(DEDUCT, query)):
            assert _refused(answer, "trade_no: not valid UTF-8"), (text, answer)
        raw_form = ledger.raw("POST", DEDUCT, f"eid={eid}&trade_no=".encode() + text.encode("gbk") + b"&amount=100",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert _refused(raw_form, "trade_no: not valid UTF-8"), raw_form.body  # not read as an empty form
        # unescaped bytes that are not ASCII never reach the application: gunicorn refuses the request line
        raw = ledger.raw("GET", f"{DEDUCT}?eid={eid}&trade_no=".encode() + text.encode("gbk") + b"&amount=100")
        assert raw.status == 400 and b"Invalid HTTP request line" in raw.body
    assert ledger.balance(eid) == 1000 and ledger.records(eid) == [("fund", 1, 1000)]


def test_one_text_is_one_key_on_every_path(ledger):
    """The same trade number however it is sent: percent-escaped (upper or lower case), JSON (escaped or
    not), form, batch."""
    eid = _open(ledger, 1000)
    text = "订单一&amount=9+%41"
    fields = {"eid": eid, "trade_no": text, "amount": 100}
    answers = [
        ledger.get(DEDUCT, urlencode(fields)).status_code,
        ledger.raw("GET", f"{DEDUCT}?eid={eid}&trade_no=" + quote("订单一").lower() + "%26amount%3d9%2b%2541"
                   + "&amount=100").status,
        ledger.json(DEDUCT, fields).status_code,
        ledger.form(DEDUCT, urlencode(fields)).status_code,
        ledger.session.post(f"{ledger.url}{DEDUCT}", timeout=10, headers=JSON,
                            data=b'{"eid":"%s","trade_no":"\\u8ba2\\u5355\\u4e00&amount=9+%%41","amount":100}'
                            % eid.encode()).status_code,
        ledger.json("/account/balance/batch", {"operations": [{"op": "deduct", **fields}]}).json()["results"][0]["status"],
    ]
    assert answers == [200, 201, 201, 201, 201, 201]
    assert ledger.records(eid) == [("fund", 1, 1000), (text, 2, -100)]


def test_an_eid_with_an_invalid_escape_is_refused_on_every_path(ledger):
    """``x%FF`` once was the literal text to some endpoints (create, query) and ``x\\ufffd`` to others (postings)."""
    base = new_id("esc")
    replaced = _open(ledger, eid=base + "\ufffd")
    for path, query in (("/account/create", f"eid={base}%FF&name=n"), (ADD, f"eid={base}%FF&trade_no=t&amount=5"),
                        ("/account/query", f"eid={base}%FF"), ("/account/balance/query", f"eid={base}%FF")):
        for answer in (ledger.get(path, query), ledger.form(path, query)):
            assert _refused(answer, "eid: not valid UTF-8"), (path, answer.text)
    assert ledger.balance(replaced) == 0
    assert ledger.json("/account/query", {"eid": f"{base}%FF"}).status_code == 404  # nothing was created


def test_a_lone_surrogate_is_refused_and_never_fails_other_postings(ledger):
    """Text PostgreSQL cannot store, in a burst of valid postings group-committed with it."""
    eid = _open(ledger)
    valid = [("POST", ADD, b'{"eid":"%s","trade_no":"ok%d","amount":1}' % (eid.encode(), n)) for n in range(200)]
    bad = [("POST", ADD, b'{"eid":"%s","trade_no":"bad\\ud800%d","amount":1}' % (eid.encode(), n)) for n in range(20)]
    bad += [("POST", DEDUCT, b'{"eid":"\\udfff","trade_no":"x%d","amount":1}' % n) for n in range(10)]
    bad += [("GET", f"{ADD}?eid={eid}&trade_no=bad%ED%A0%80{n}&amount=1", b"") for n in range(10)]
    calls = [call for pair in zip(valid, bad + [None] * len(valid)) for call in pair if call is not None]

    def send(call):
        method, target, body = call
        answer = ledger.session.request(method, f"{ledger.url}{target}", data=body or None, headers=JSON, timeout=30)
        return call, answer.status_code, answer.json()["msg"] if answer.status_code >= 400 else ""

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(send, calls))
    assert [status for call, status, _ in answers if call in valid] == [200] * len(valid)
    for call, status, msg in answers:
        if call not in valid:
            assert status == 400 and ("lone surrogate" in msg or "not valid UTF-8" in msg), (call, status, msg)
    assert ledger.balance(eid) == len(valid)


@pytest.mark.parametrize("path,body", [
    ("/account/create", b'{"eid":"a\\ud800","name":"n"}'),
    ("/account/create", b'{"eid":"fine","name":"\\udc00"}'),
    ("/account/query", b'{"eid":"a\\ud800"}'),
    ("/account/record/query", b'{"eid":"\\ud800"}'),
    ("/account/lock", b'{"eid":"\\ud800"}'),
    ("/package/create", b'{"eid":"e","spkg_id":"\\ud800","name":"n","total":1,"expires":"20991231"}'),
    ("/package/capacity/add", b'{"eid":"e","spkg_id":"p","trade_no":"\\ud800","num":1}'),
    ("/account/balance/batch", b'{"operations":[{"op":"add","eid":"e","trade_no":"t","amount":1},'
                               b'{"op":"add","eid":"e","trade_no":"\\ud800","amount":1}]}'),
])
def test_a_lone_surrogate_is_a_400_on_every_endpoint(ledger, path, body):
    answer = ledger.session.post(f"{ledger.url}{path}", data=body, headers=JSON, timeout=10)
    assert _refused(answer, "lone surrogate"), answer.text


def test_head_never_changes_the_books(ledger):
    eid = _open(ledger, 1000)
    assert ledger.json(DEDUCT, {"eid": eid, "trade_no": "d", "amount": 10}).status_code == 200
    ghost = new_id("head")
    targets = [f"{ADD}?eid={eid}&trade_no=h1&amount=5", f"{DEDUCT}?eid={eid}&trade_no=h2&amount=5",
               f"{REFUND}?eid={eid}&trade_no=d&amount=5", f"/account/create?eid={ghost}&name=n",
               f"/account/lock?eid={eid}", f"/account/balance/release?eid={eid}&trade_no=r&amount=5",
               f"/package/create?eid={eid}&spkg_id=p&name=n&total=5&expires=20991231"]
    for target in targets:
        for token in (True, False):
            answer = ledger.raw("HEAD", target, token=token)
            assert answer.status == 405 and answer.headers["Allow"] == "GET, POST", (target, answer.status)
            assert answer.headers["Content-Length"] != "0"  # the error's length, as GET would answer it
    account = ledger.json("/account/query", {"eid": eid}).json()
    assert (account["balance"], account["status"]) == (990, "normal")
    assert ledger.records(eid) == [("fund", 1, 1000), ("d", 2, -10)]
    assert ledger.json("/account/query", {"eid": ghost}).status_code == 404
    assert ledger.json("/package/query", {"eid": eid, "spkg_id": "p"}).status_code == 404
    assert ledger.json(DEDUCT, {"eid": eid, "trade_no": "r", "amount": 5}).status_code == 200  # never released
    assert ledger.session.head(f"{ledger.url}/healthz", timeout=5).status_code == 200  # HEAD of a read stays


def test_a_single_valued_parameter_given_twice_is_refused_on_every_path(ledger):
    eid = _open(ledger, 1000)
    query = f"eid={eid}&trade_no=twice&amount=1&amount=900"
    for answer in (ledger.get(DEDUCT, query), ledger.form(DEDUCT, query),
                   ledger.session.post(f"{ledger.url}{DEDUCT}", headers=JSON, timeout=10,
                                       data=b'{"eid":"%s","trade_no":"twice","amount":1,"amount":900}' % eid.encode()),
                   ledger.get("/account/create", f"eid={eid}&eid=other&name=n")):
        assert _refused(answer, ": given more than once"), answer.text
    assert ledger.balance(eid) == 1000
    # a name no endpoint reads may repeat (callers add their own parameters)
    assert ledger.get(DEDUCT, f"eid={eid}&trade_no=t&amount=1&tag=a&tag=b").status_code == 200


@pytest.mark.parametrize("content_type", ["application/json; charset=gbk", "application/json;charset=UTF-16",
                                          "application/x-www-form-urlencoded; charset=gbk",
                                          'application/json; charset="latin-1"'])
def test_a_charset_other_than_utf8_is_refused(ledger, content_type):
    eid = _open(ledger)
    fields = {"eid": eid, "trade_no": "cs", "amount": 7}
    body = urlencode(fields) if "form" in content_type else f'{{"eid":"{eid}","trade_no":"cs","amount":7}}'
    for method, target in (("POST", ADD), ("GET", f"{ADD}?{urlencode(fields)}")):
        answer = ledger.raw(method, target, body.encode() if method == "POST" else b"",
                            headers={"Content-Type": content_type})
        assert _refused(answer, "is not accepted; send UTF-8"), answer.body
    assert ledger.balance(eid) == 0
    assert ledger.raw("POST", ADD, body.encode(), headers={"Content-Type": content_type.split(";")[0]
                                                            + "; charset=utf-8"}).status == 200


def test_json_sent_as_text_is_not_read_as_json(ledger):
    eid = _open(ledger)
    for content_type in ("text/plain", "application/octet-stream", None):
        answer = ledger.raw("POST", ADD, b'{"eid":"%s","trade_no":"tp","amount":7}' % eid.encode(),
                            headers={"Content-Type": content_type} if content_type else {})
        assert _refused(answer, "Missing data for required field"), answer.body
    assert ledger.balance(eid) == 0


@pytest.mark.parametrize("target,reason", [
    (b"/account/balance/add%FF", "the path is not valid UTF-8"),
    (b"/account/balance/add%C3", "the path is not valid UTF-8"),
    (b"/account/query%00", "the path may not contain NUL"),
    (b"/healthz?x=%FF", "x: not valid UTF-8"),
    (b"/account/query?eid=a%00b", "eid: may not contain NUL"),
    (b"/account/query?%C0%AF=1", "a parameter name: not valid UTF-8"),
])
def test_odd_bytes_in_the_path_or_query_are_refused(ledger, target, reason):
    answer = ledger.raw("GET", target)
    assert _refused(answer, reason), answer.body


def test_a_path_is_decoded_once_alike_for_every_method(ledger):
    """gunicorn decodes the path's escapes: ``ad%64`` is ``add`` for a GET and a form POST alike."""
    eid = _open(ledger)
    assert ledger.raw("GET", f"/account/balance/ad%64?eid={eid}&trade_no=p&amount=3").status == 200
    assert ledger.raw("POST", "/account/balance/ad%64", b"eid=%s&trade_no=p&amount=3" % eid.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 201
    assert ledger.raw("GET", "/account/balance/add%2F").status == 404
    assert ledger.balance(eid) == 3


@pytest.mark.parametrize("sent", ["x" * 65, "has space", "caf\u00e9", "\xff\xfe"])
def test_a_request_id_that_is_not_plain_ascii_is_replaced_not_echoed(ledger, sent):
    eid = _open(ledger)
    for method, target in (("GET", f"{ADD}?eid={eid}&trade_no=r&amount=1"), ("GET", f"/account/query?eid={eid}"),
                           ("GET", "/healthz")):
        answer = ledger.raw(method, target, headers={"X-Request-Id": sent})
        assert answer.status in (200, 201)
        assert re.fullmatch("[0-9a-f]{32}", answer.headers["X-Request-Id"]), answer.headers["X-Request-Id"]
    kept = ledger.raw("GET", f"/account/query?eid={eid}", headers={"X-Request-Id": "trace-1.2:3"})
    assert kept.headers["X-Request-Id"] == "trace-1.2:3"


def test_control_characters_in_a_header_never_reach_the_application(ledger):
    """gunicorn refuses them (its own 400 page) before any service code: nothing can echo or log them."""
    for name in ("X-Request-Id", "Authorization", "Content-Type"):
        for value in ("a\x01b", "a\x7f", "a\x00b"):
            answer = ledger.raw("GET", "/account/query?eid=e", headers={name: value})
            assert answer.status == 400 and b"Invalid HTTP Header" in answer.body, (name, value)


def test_repeated_headers_are_never_read_two_ways(ledger, infra):
    """Two Authorization headers are joined into one value that matches no token; two Content-Types, two
    Content-Lengths or Content-Length with chunked are refused by gunicorn (no request smuggling)."""
    eid = _open(ledger)
    body = b'{"eid":"%s","trade_no":"rh","amount":1}' % eid.encode()
    token = ("Authorization", f"Bearer {infra.internal_token}")
    twice = raw_http.send(ledger.url, "POST", ADD, [token, token, ("Content-Type", "application/json")], body)
    assert twice.status == 401
    for extra in (("Content-Type", "text/plain"), ("Content-Length", "5"), ("Transfer-Encoding", "chunked")):
        answer = raw_http.send(ledger.url, "POST", ADD, [token, ("Content-Type", "application/json"), extra], body)
        assert answer.status == 400 and b"Invalid HTTP Header" in answer.body, extra
    assert ledger.balance(eid) == 0


@pytest.mark.parametrize("authorization", ["Bearer caf\u00e9", "Bearer \xff\xfe", "B\u00e9arer x"])
def test_a_non_ascii_authorization_is_a_401(ledger, authorization):
    eid = _open(ledger)
    for method, target, body in (("GET", f"{ADD}?eid={eid}&trade_no=a&amount=1", b""),
                                 ("POST", ADD, b'{"eid":"%s","trade_no":"a","amount":1}' % eid.encode()),
                                 ("GET", f"/account/query?eid={eid}", b"")):
        answer = ledger.raw(method, target, body, headers={"Authorization": authorization, **JSON}, token=False)
        assert answer.status == 401, (target, answer.body)
    assert ledger.balance(eid) == 0


def test_an_overlong_body_is_413_on_every_path(ledger):
    eid = _open(ledger)
    limit = 512 * 1024
    body = f'{{"eid":"{eid}","trade_no":"big","amount":1}}'.encode().ljust(limit + 1)
    assert ledger.raw("POST", ADD, body, headers=JSON).status == 413
    assert ledger.raw("POST", "/account/balance/batch", b'{"operations":[' + b" " * limit + b"]}",
                      headers=JSON).status == 413
    # chunked (no Content-Length): a form cut at the limit would read amount=1 where 1000 was sent
    form = f"eid={eid}&trade_no=cut&pad=".encode()
    form += b"x" * (limit - len(form) - len(b"&amount=1")) + b"&amount=1000"
    for content_type, chunked_body in (("application/x-www-form-urlencoded", form), (JSON["Content-Type"], body)):
        answer = ledger.session.post(f"{ledger.url}{ADD}", data=iter([chunked_body[:1000], chunked_body[1000:]]),
                                     headers={"Content-Type": content_type}, timeout=10)
        assert answer.status_code == 413, (content_type, answer.text)
    assert ledger.balance(eid) == 0
    exact = ledger.session.post(f"{ledger.url}{ADD}", data=iter([form[:-3]]), timeout=10,  # amount=1 at the limit
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert exact.status_code == 200 and ledger.balance(eid) == 1


def test_every_json_answer_is_no_store(ledger):
    eid = _open(ledger)
    answers = [ledger.get(ADD, f"eid={eid}&trade_no=c&amount=1"), ledger.json(ADD, {"eid": eid}),
               ledger.form(ADD, f"eid={eid}&trade_no=c&amount=1"), ledger.json("/account/query", {"eid": eid}),
               ledger.get("/account/query", "eid=ghost-" + eid), ledger.session.get(f"{ledger.url}/healthz"),
               requests.get(f"{ledger.url}{ADD}?eid={eid}&trade_no=c&amount=1", timeout=5)]
    assert [answer.status_code for answer in answers] == [200, 400, 201, 200, 404, 200, 401]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.url


def test_readyz_names_the_dependency_down_without_its_details(infra, tmp_path):
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/beanpay_ledger"
    with running_ledger(infra, tmp_path, DATABASE_URL=closed, DB_POOL_MIN=0) as down:
        answer = requests.get(f"{down.url}/readyz", timeout=10)
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "failures": {"database": "unavailable"}}
    log = next(tmp_path.glob("beanpay_ledger-*.log")).read_text()
    assert "not ready: database" in log  # the details are for the operator's log

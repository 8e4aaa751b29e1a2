"""Every service as deployed (gunicorn, real HTTP) decodes what enters it alike through the shared web
shell: absurd JSON on every JSON endpoint of every service is a 400 naming the reason, a path or query
that is not UTF-8 text is a 400, every JSON answer is ``Cache-Control: no-store``, and headers that are
not plain ASCII are never echoed and never a 500."""
import re
import uuid

import pytest
import requests

from shared.signing import encode_wanxin, load_key
from tests.api_fuzz.signed import request_times
from tests.shared import raw_http
from tests.support.processes import WebService

REQUEST_NO = "REQ_" + "0" * 32
ABSURD = [  # (body, the reason the answer names)
    (b'{"x": ' + b"9" * 5000 + b"}", "JSON number longer than"),
    (b'{"x": -1.5e999}', "JSON number out of range"),
    (b'{"x": NaN}', "NaN is not a JSON number"),
    (b'{"x": [Infinity]}', "Infinity is not a JSON number"),
    (b'{"x": ' + b"[" * 60_000, "nested deeper than"),  # within every body limit (64 KiB)
    (b'{"x": ' + b"[" * 33 + b"]" * 33 + b"}", "nested deeper than"),
    (b'{"x": "\\ud800"}', "lone surrogate"),
    (b'{"\\udfff": 1}', "lone surrogate"),
    (b'{"x": "a\\u0000"}', "NUL"),
    (b'{"x": 1, "x": 2}', "x: given more than once"),
    (b'{"x": "\xff"}', "not valid UTF-8"),
    ('{"x": 1}'.encode("utf-16"), "not valid UTF-8"),
]


@pytest.fixture(scope="module")
def stack(infra, tmp_path_factory):
    """The five services under gunicorn, one worker each, on the run's databases, vhost and Redis prefix."""
    logs = tmp_path_factory.mktemp("stack")
    started = {}

    def start(package: str, **env) -> str:
        service = WebService(package, infra.service_env(package, **env), logs, workers=1)
        started[package] = service.start()
        return service.url

    try:
        ledger = start("beanpay_ledger")
        agent = start("depository_agent")
        callback = start("bank_callback")
        start("bank_sandbox", DEPOSITORY_AGENT_URL=agent, BANK_CALLBACK_URL=callback, SANDBOX_SCRYPT_N=1024)
        start("user_center", LEDGER_URL=ledger, DEPOSITORY_AGENT_URL=agent)
        yield {package: service.url for package, service in started.items()}
    finally:
        for service in started.values():
            service.stop()


@pytest.fixture(scope="module")
def user_token(stack):
    """A registered user's bearer token (user-center's /my/ endpoints)."""
    url, mobile = stack["user_center"], "13" + str(uuid.uuid4().int)[:9]
    assert requests.post(f"{url}/consumers", json={"mobile": mobile, "password": "long-enough"},
                         timeout=30).status_code == 201
    return requests.post(f"{url}/tokens", json={"mobile": mobile, "password": "long-enough"},
                         timeout=30).json()["result"]["access_token"]


def _json_operations(url: str) -> list[tuple[str, str]]:
    """``(METHOD, path)`` of every operation whose OpenAPI document takes a JSON request body."""
    paths = requests.get(f"{url}/openapi.json", timeout=10).json()["paths"]
    return [(method.upper(), re.sub(r"\{[^}]+\}", REQUEST_NO, path)) for path, item in paths.items()
            for method, operation in item.items() if method in ("post", "put", "patch", "delete")
            and "application/json" in (operation.get("requestBody") or {}).get("content", {})]


def _msg(answer: raw_http.RawAnswer) -> str:
    try:
        return answer.json()["msg"]
    except ValueError:
        return answer.body[:200].decode("latin-1")


@pytest.mark.parametrize("package", ["beanpay_ledger", "depository_agent", "bank_callback", "bank_sandbox",
                                     "user_center"])
def test_absurd_json_is_a_400_naming_the_reason_on_every_json_endpoint(stack, infra, user_token, package):
    url = stack[package]
    operations = _json_operations(url)
    assert operations or package == "bank_callback", "no JSON endpoint found"
    wrong = []
    for method, path in operations:
        token = user_token if path.startswith("/my/") else infra.internal_token
        for body, reason in ABSURD:
            answer = raw_http.send(url, method, path, {"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {token}"}, body)
            if answer.status != 400 or reason not in _msg(answer):
                wrong.append((method, path, body[:24], answer.status, _msg(answer)[:80]))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("package", ["beanpay_ledger", "depository_agent", "bank_callback", "bank_sandbox",
                                     "user_center"])
def test_a_path_or_query_that_is_not_utf8_text_is_a_400(stack, package):
    url = stack[package]
    for target, reason in ((b"/healthz?x=%FF", "x: not valid UTF-8"), (b"/healthz?x=%ED%A0%80", "x: not valid UTF-8"),
                           (b"/healthz?x=a%00", "x: may not contain NUL"), (b"/%FF", "the path is not valid UTF-8"),
                           (b"/x%00y", "the path may not contain NUL")):
        answer = raw_http.send(url, "GET", target)
        assert answer.status == 400 and reason in _msg(answer), (target, answer.status, _msg(answer))
    assert raw_http.send(url, "GET", b"/healthz?x=%E4%B8%AD&y=+%2B").status == 200


@pytest.mark.parametrize("package", ["beanpay_ledger", "depository_agent", "bank_callback", "bank_sandbox",
                                     "user_center"])
def test_every_json_answer_is_no_store_and_odd_headers_are_not_echoed(stack, package):
    url = stack[package]
    for target in ("/healthz", "/readyz", "/no-such-endpoint", "/openapi.json"):
        answer = raw_http.send(url, "GET", target, {"X-Request-Id": "caf\xe9"})
        assert answer.headers["Content-Type"].startswith("application/json"), target
        assert answer.headers["Cache-Control"] == "no-store", target
        assert re.fullmatch("[0-9a-f]{32}", answer.headers["X-Request-Id"]), answer.headers["X-Request-Id"]
    assert raw_http.send(url, "GET", "/healthz", {"X-Request-Id": "ok-1"}).headers["X-Request-Id"] == "ok-1"
    assert raw_http.send(url, "GET", "/readyz").json() == {"status": "ok"}


@pytest.mark.parametrize("package,method,path", [
    ("beanpay_ledger", "GET", "/account/query?eid=e"), ("depository_agent", "GET", f"/l/records/{REQUEST_NO}"),
    ("bank_sandbox", "GET", "/sandbox/faults"), ("user_center", "GET", "/my/balances"),
    ("user_center", "GET", f"/internal/records?requestNo={REQUEST_NO}"),
])
def test_an_authorization_that_is_not_ascii_is_a_401(stack, package, method, path):
    for authorization in ("Bearer caf\xe9", "Bearer \xff\xfe\xfd", "B\xe9arer token", "Bearer a.\xe9"):
        answer = raw_http.send(stack[package], method, path, {"Authorization": authorization})
        assert answer.status == 401, (authorization, answer.status, _msg(answer))


def test_user_center_password_and_token_answers(stack):
    url = stack["user_center"]
    mobile = "13" + str(uuid.uuid4().int)[:9]
    for password in ("\ud800" + "x" * 8, "x" * 8 + "\udfff", "pass\x00word"):
        answer = requests.post(f"{url}/consumers", json={"mobile": mobile, "password": password}, timeout=30)
        assert answer.status_code == 400 and answer.headers["Cache-Control"] == "no-store", answer.text
    assert requests.post(f"{url}/consumers", json={"mobile": mobile, "password": "long-enough"},
                         timeout=30).status_code == 201  # nothing of the refused ones was stored
    token = requests.post(f"{url}/tokens", json={"mobile": mobile, "password": "long-enough"}, timeout=30)
    assert token.status_code == 200 and "access_token" in token.json()["result"]
    assert token.headers["Cache-Control"] == "no-store"


def test_the_sandbox_confirm_refuses_a_password_that_is_not_text(stack, infra):
    private = load_key(f"{infra.keys_dir}/platform_private.pem")
    user_no, request_no = "USR_" + uuid.uuid4().hex.upper(), "REQ_" + uuid.uuid4().hex.upper()
    payload = {"requestNo": request_no, "userNo": user_no, "fullname": "张三", "idNumber": "110101199003074512",
               "bankCode": "ICBK", "cardNumber": "6222020200112233445", "mobile": "13800138000", "role": "I",
               "callbackUrl": "http://127.0.0.1:8001/#/register-result", **request_times()}
    req_data, signature = encode_wanxin(payload, private, "SHA256")
    body = {"platformNo": "WANXINP2P", "reqData": req_data, "signature": signature}
    for password in ("\ud800" + "24681", "2468\x0010"):
        answer = requests.post(f"{stack['bank_sandbox']}/sandbox/confirm", json={**body, "password": password},
                               timeout=30)
        assert answer.status_code == 400, answer.text
    confirmed = requests.post(f"{stack['bank_sandbox']}/sandbox/confirm", json={**body, "password": "246810"},
                              timeout=30)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == 1, confirmed.text


@pytest.mark.parametrize("package,path", [("depository_agent", "/l/records/{}"),
                                          ("bank_sandbox", "/balance-details/{}")])
def test_a_path_parameter_is_decoded_once_and_checked(stack, infra, package, path):
    url, auth = stack[package], {"Authorization": f"Bearer {infra.internal_token}"}
    for odd, reason in (("REQ_%FF", "the path is not valid UTF-8"), ("REQ_%00", "the path may not contain NUL")):
        answer = raw_http.send(url, "GET", path.format(odd), auth)
        assert answer.status == 400 and reason in _msg(answer), (odd, answer.status, _msg(answer))
    for odd in ("%E4%B8%AD", "REQ_%2541", "..%2F..%2Fhealthz", "REQ_" + "A" * 3000):
        answer = raw_http.send(url, "GET", path.format(odd), auth)
        assert answer.status in (400, 404), (odd, answer.status, _msg(answer))


def test_which_value_wins_when_a_name_repeats(stack, infra):
    """None: a single-valued name given twice is refused on every service; a repeatable one stays a list."""
    auth = {"Authorization": f"Bearer {infra.internal_token}"}
    center = stack["user_center"]
    listed = raw_http.send(center, "GET", f"/internal/records?requestNo={REQUEST_NO}&requestNo=REQ_{'1' * 32}", auth)
    assert listed.status == 200 and listed.json()["result"] is not None
    window = "from=2030-01-01T00:00:00%2B08:00&to=2030-01-02T00:00:00%2B08:00"
    for target in (f"/internal/records?{window}&size=1&size=500", f"/internal/records?{window}&from=2020-01-01T00:00:00Z"):
        answer = raw_http.send(center, "GET", target, auth)
        assert answer.status == 400 and "given more than once" in _msg(answer), (target, _msg(answer))
    for package, method, target, body in (
            ("depository_agent", "GET", "/gateway?serviceName=RECHARGE&serviceName=WITHDRAW&reqData=x&signature=y", b""),
            ("depository_agent", "POST", "/gateway", b"serviceName=A&reqData=x&reqData=y&signature=z"),
            ("bank_callback", "POST", "/netsave", b"CmdId=NetSave&CmdId=Other&RespCode=000"),
            ("bank_callback", "GET", "/RegisterCallback?CmdId=UserRegister&CmdId=UserRegister", b"")):
        answer = raw_http.send(stack[package], method, target,
                               {"Content-Type": "application/x-www-form-urlencoded", **auth}, body)
        assert answer.status == 400 and "given more than once" in _msg(answer), (target, answer.status, _msg(answer))


@pytest.mark.parametrize("package,path", [("bank_callback", "/register"), ("bank_callback", "/netsave"),
                                          ("depository_agent", "/gateway"), ("bank_sandbox", "/gateway/confirm")])
def test_a_form_or_charset_that_is_not_utf8_is_a_400(stack, package, path):
    """The endpoints that read forms (the banks' callbacks and pages)."""
    url = stack[package]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers, body, reason in ((form, b"CmdId=%B6%A9&x=1", "not valid UTF-8"), (form, b"x=a%00b", "may not contain NUL"),
                                  ({"Content-Type": "application/x-www-form-urlencoded; charset=gbk"}, b"x=1",
                                   "charset 'gbk' is not accepted"),
                                  ({"Content-Type": "application/json; charset=utf-16"}, b"{}",
                                   "charset 'utf-16' is not accepted")):
        answer = raw_http.send(url, "POST", path, headers, body)
        assert answer.status == 400 and reason in _msg(answer), (headers, body, answer.status, _msg(answer))


def test_a_chunked_body_over_the_limit_is_413_on_every_service(stack):
    for package, path in (("user_center", "/consumers"), ("bank_callback", "/netsave"), ("depository_agent", "/gateway")):
        body = b"x=" + b"1" * (64 * 1024)
        answer = requests.post(f"{stack[package]}{path}", data=iter([body[:100], body[100:]]), timeout=10,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 413, (package, answer.status_code, answer.text[:200])


def test_odd_forwarded_for_headers_are_never_a_500(stack):
    for forwarded in ("caf\xe9", "\xff\xfe, 1.2.3.4", "1.2.3.4, not-an-ip", "[::1]:80", "," * 200):
        answer = raw_http.send(stack["user_center"], "POST", "/tokens",
                               {"Content-Type": "application/json", "X-Forwarded-For": forwarded},
                               b'{"mobile": "13900000000", "password": "wrong-password"}')
        assert answer.status in (401, 429), (forwarded, answer.status, _msg(answer))

"""Every service as deployed (gunicorn, real HTTP) decodes what enters it alike through the shared web
shell: absurd JSON on every JSON endpoint of every service is a 400 naming the reason, a path or query
that is not UTF-8 text is a 400, every JSON answer is ``Cache-Control: no-store``, and headers that are
not plain ASCII are never echoed and never a 500."""
import re
import uuid

import pytest
import requests

from shared.signing import encode_wanxin, load_key
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
               "callbackUrl": "http://127.0.0.1:8001/#/register-result"}
    req_data, signature = encode_wanxin(payload, private, "SHA256")
    body = {"platformNo": "WANXINP2P", "reqData": req_data, "signature": signature}
    for password in ("\ud800" + "24681", "2468\x0010"):
        answer = requests.post(f"{stack['bank_sandbox']}/sandbox/confirm", json={**body, "password": password},
                               timeout=30)
        assert answer.status_code == 400, answer.text
    confirmed = requests.post(f"{stack['bank_sandbox']}/sandbox/confirm", json={**body, "password": "246810"},
                              timeout=30)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == 1, confirmed.text

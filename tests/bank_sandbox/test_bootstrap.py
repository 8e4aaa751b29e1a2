"""The bank as a real gunicorn process, SHA-1 banks, and hostile input that must never be a 500."""
import requests

from bank_sandbox.bootstrap import create_app, dependencies
from tests.bank_sandbox.conftest import PASSWORD, Platform


def test_the_web_process_serves_pages_health_and_openapi(infra, procs, receiver, platform):
    web = procs.web("bank_sandbox", infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=receiver.url,
                                                      SANDBOX_SCRYPT_N=1024), workers=1)
    assert requests.get(f"{web.url}/readyz", timeout=5).json() == {"status": "ok"}
    paths = requests.get(f"{web.url}/openapi.json", timeout=5).json()["paths"]
    for path in ("/gateway", "/gateway/confirm", "/sandbox/confirm", "/sandbox/faults", "/service/query",
                 "/balance-details/{user_no}", "/statements", "/huifu/register", "/huifu/netsave"):
        assert path in paths, path
    user_no = platform.user_no()
    payload = platform.register(user_no)
    page = requests.get(f"{web.url}/gateway", params=platform.gateway_params("PERSONAL_REGISTER", payload),
                        headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 200 and "开通存管账户" in page.text
    done = requests.post(f"{web.url}/sandbox/confirm", timeout=5,
                         json=platform.confirm_body("PERSONAL_REGISTER", payload))
    assert done.status_code == 200 and done.json()["status"] == 1
    assert requests.get(f"{web.url}/balance-details/{user_no}", timeout=5).json()["balance"] == "0.00"


def test_a_sha1_bank_verifies_and_signs_with_sha1(settings):
    sha1 = {**settings, "SIGN_HASH": "SHA1"}
    app = create_app(sha1)
    try:
        client, platform = app.test_client(), Platform(sha1)
        payload = platform.register(platform.user_no())
        answer = client.post("/sandbox/confirm", json=platform.confirm_body("PERSONAL_REGISTER", payload))
        assert answer.status_code == 200 and answer.json["status"] == 1
        view = client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": payload["requestNo"]})
        assert platform.read_notification(view.json)["status"] == 1
        sha256_signed = Platform(settings).confirm_body("RECHARGE", platform.recharge(payload["userNo"], "1.00"))
        assert client.post("/sandbox/confirm", json=sha256_signed).status_code == 400
    finally:
        dependencies(app).close()


def test_nul_characters_and_junk_are_clear_4xx(client, platform, infra):
    token = {"Authorization": f"Bearer {infra.internal_token}"}
    cases = [
        client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": "REQ\x00"}),
        client.get("/balance-details/USR%00X"),
        client.post("/huifu/register", json={"usrId": "ok", "usrName": "a\x00b"}),
        client.post("/huifu/register", json={"usrId": "ok", "merPriv": "\x00"}),
        client.post("/gateway/confirm", data={"requestNo": "REQ\x00", "token": "t"}),
        client.post("/gateway/confirm", data={"requestNo": "REQ_UNKNOWN", "token": "t", "password": PASSWORD}),
        client.post("/sandbox/confirm", json=["not", "an", "object"]),
        client.post("/sandbox/confirm", data="{", content_type="application/json"),
        client.post("/sandbox/faults", json={"delaySeconds": "NaN"}, headers=token),
        client.get("/statements", query_string={"platformNo": "WANXINP2P", "date": "yesterday"}),
        client.post("/huifu/netsave", json={"usrCustId": "6000060000000000", "amount": {"yuan": 1}}),
        client.get("/gateway", query_string={**platform.gateway_params("RECHARGE", platform.recharge("U", "1.00")),
                                             "reqData": "%%%not-base64"}),
    ]
    for number, answer in enumerate(cases):
        assert 400 <= answer.status_code < 500, (number, answer.status_code, answer.text[:200])

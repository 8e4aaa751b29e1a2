"""lending's borrowers at user-center: ``POST /internal/consumers`` (find or create by mobile),
``GET /internal/consumers/<userNo>`` and ``POST /internal/open-account-links`` with the link's pages
``GET``/``POST /open-account/<token>`` (one-time, hashed, expiring at the second, signing in only its user)."""
import base64
import hashlib
import json
import re
import threading
import uuid

import pytest
import requests

from shared.contract import PERSONAL_REGISTER
from tests.support.link_page import handoff_of
from tests.user_center.conftest import new_mobile, request_no_of

from user_center import borrowers, notifications
from user_center.tokens import verify_token

ID_NUMBER = "11010519491231002X"
PUBLIC_URL = "http://127.0.0.1:8001"
LINK = re.compile(r"^http://127\.0\.0\.1:8001/open-account/([A-Za-z0-9_-]{43})$")


@pytest.fixture(scope="module")
def service(infra) -> dict:
    return {"Authorization": f"Bearer {infra.internal_token}"}


def new_id_number() -> str:
    return str(uuid.uuid4().int)[:17] + "X"


@pytest.fixture
def borrower(client, service):
    """A borrower lending created: ``(userNo, mobile, idNumber)``."""
    mobile, id_number = new_mobile(), new_id_number()
    answer = client.post("/internal/consumers", json={"mobile": mobile, "fullname": "李四", "idNumber": id_number},
                         headers=service)
    assert answer.status_code == 201, answer.json
    return answer.json["result"]["userNo"], mobile, id_number


def link_body(user_no: str, id_number: str, **changes) -> dict:
    body = {"userNo": user_no, "fullname": "李四", "idNumber": id_number, "mobile": "13900139000",
            "bankCode": "ICBC", "cardNumber": "6222020200112341234", "role": "B", "validMinutes": 15}
    body.update(changes)
    return body


def new_link(client, service, borrower, **changes) -> str:
    """The token of a fresh link for ``borrower``."""
    answer = client.post("/internal/open-account-links", json=link_body(borrower[0], borrower[2], **changes),
                         headers=service)
    assert answer.status_code == 200, answer.json
    return LINK.fullmatch(answer.json["result"]["url"]).group(1)


def test_lendings_endpoints_need_the_service_token(client, make_user, borrower):
    user = make_user()
    calls = [("post", "/internal/consumers", {"mobile": new_mobile(), "fullname": "x", "idNumber": ID_NUMBER}),
             ("get", f"/internal/consumers/{borrower[0]}", None),
             ("post", "/internal/open-account-links", link_body(borrower[0], borrower[2]))]
    for method, path, body in calls:
        for headers in ({}, user.headers, {"Authorization": "Bearer not-the-token"}):
            answer = getattr(client, method)(path, json=body, headers=headers)
            assert answer.status_code == 401 and answer.json["code"] == 901, (path, headers)


def test_find_or_create_by_mobile(client, service, db):
    mobile, id_number = new_mobile(), new_id_number()
    body = {"mobile": mobile, "fullname": "王五", "idNumber": id_number}
    created = client.post("/internal/consumers", json=body, headers=service)
    assert created.status_code == 201 and created.json["code"] == 0
    assert created.json["result"]["depositoryStatus"] == "NONE"
    assert re.fullmatch(r"USR_[0-9A-F]{32}", created.json["result"]["userNo"])
    found = client.post("/internal/consumers", json={**body, "idNumber": id_number.lower()}, headers=service)
    assert found.status_code == 200 and found.json["result"] == created.json["result"]
    other = client.post("/internal/consumers", json={**body, "idNumber": new_id_number()}, headers=service)
    assert other.status_code == 409 and other.json["code"] == 909 and "another ID number" in other.json["msg"]
    row = db.execute("select fullname, id_number, password_hash from consumer where mobile = %s", (mobile,)).fetchone()
    assert row == {"fullname": "王五", "id_number": id_number, "password_hash": None}
    status = client.get(f"/internal/consumers/{created.json['result']['userNo']}", headers=service)
    assert status.status_code == 200 and status.json["result"] == created.json["result"]


def test_a_created_borrower_has_no_password_anyone_can_log_in_with(client, borrower):
    _, mobile, _ = borrower
    for password in ("", "x", "None", "secret-pass-1"):
        answer = client.post("/tokens", json={"mobile": mobile, "password": password})
        assert answer.status_code in (400, 401) and "access_token" not in json.dumps(answer.json)
    assert client.post("/tokens", json={"mobile": mobile, "password": "whatever-1"}).json["msg"] == \
        "wrong mobile number or password"
    assert client.post("/consumers", json={"mobile": mobile, "password": "secret-pass-1"}).status_code == 409


def test_a_registered_user_takes_lendings_identity_once(client, service, make_user, db):
    user = make_user()
    id_number = new_id_number()
    body = {"mobile": user.mobile, "fullname": "赵六", "idNumber": id_number}
    found = client.post("/internal/consumers", json=body, headers=service)
    assert found.status_code == 200 and found.json["result"]["userNo"] == user.user_no
    assert client.post("/internal/consumers", json={**body, "idNumber": new_id_number()},
                       headers=service).status_code == 409
    assert client.post("/tokens", json={"mobile": user.mobile, "password": "secret-pass-1"}).status_code == 200


@pytest.mark.parametrize("change", [
    {"mobile": "23800138000"}, {"mobile": "1380013800"}, {"mobile": 13800138000}, {"idNumber": "11010519491231002Y"},
    {"idNumber": ""}, {"fullname": ""}, {"fullname": "a\u0000b"}, {"fullname": "tab\tname"}, {"fullname": "x" * 51},
    {"fullname": None}])
def test_find_or_create_refuses_bad_fields(client, service, change):
    body = {"mobile": new_mobile(), "fullname": "王五", "idNumber": new_id_number(), **change}
    answer = client.post("/internal/consumers", json=body, headers=service)
    assert answer.status_code == 400 and answer.json["code"] == 903, answer.json


def test_status_of_an_unknown_or_malformed_user_is_404(client, service):
    for user_no in ("USR_" + "0" * 32, "USR_abc", "x" * 300, "usr_" + "0" * 32):
        answer = client.get(f"/internal/consumers/{user_no}", headers=service)
        assert answer.status_code == 404 and answer.json["code"] == 908, user_no
    # a NUL is refused before any route (shared.inputs)
    assert client.get("/internal/consumers/USR_%00", headers=service).status_code == 400


@pytest.mark.parametrize("change", [
    {"validMinutes": 31}, {"validMinutes": 0}, {"validMinutes": -1}, {"validMinutes": "5"}, {"validMinutes": True},
    {"validMinutes": 1.5}, {"validMinutes": None}, {"role": "X"}, {"cardNumber": "6222 0202"}, {"bankCode": "I"},
    {"userNo": "USR_1"}, {"mobile": "1"}, {"fullname": "\u0007"}])
def test_links_refuse_bad_fields(client, service, borrower, change):
    answer = client.post("/internal/open-account-links", json=link_body(borrower[0], borrower[2], **change),
                         headers=service)
    assert answer.status_code == 400 and answer.json["code"] == 903, answer.json


def test_a_link_for_an_unknown_user_or_another_id_number_is_refused(client, service, borrower, db):
    unknown = client.post("/internal/open-account-links", json=link_body("USR_" + "0" * 32, ID_NUMBER),
                          headers=service)
    assert unknown.status_code == 404
    other = client.post("/internal/open-account-links", json=link_body(borrower[0], new_id_number()),
                        headers=service)
    assert other.status_code == 409
    assert db.execute("select count(*) as n from open_account_link where user_no = %s",
                      (borrower[0],)).fetchone()["n"] == 0


def test_a_link_is_stored_hashed_and_expires_after_valid_minutes(client, service, borrower, db):
    answer = client.post("/internal/open-account-links", json=link_body(borrower[0], borrower[2], validMinutes=30),
                         headers=service)
    token = LINK.fullmatch(answer.json["result"]["url"]).group(1)
    row = db.execute("select *, floor(extract(epoch from expires_at))::bigint as expires,"
                     " extract(epoch from expires_at - created_at) as seconds"
                     " from open_account_link where user_no = %s", (borrower[0],)).fetchone()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest() and row["used_at"] is None
    assert token not in json.dumps(row, default=str)
    assert answer.json["result"]["expiresAt"] == row["expires"] and row["seconds"] == 30 * 60
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_the_link_page_uses_nothing_and_the_button_signs_in_and_goes_to_the_bank(client, service, borrower, agent,
                                                                               app, db):
    user_no = borrower[0]
    token = new_link(client, service, borrower)
    page = client.get(f"/open-account/{token}")
    assert page.status_code == 200 and f'action="/open-account/{token}"' in page.text
    assert handoff_of(page.text) == {}
    # whose account it opens, masked: someone sent another person's link sees it is not theirs
    assert "<strong>李* · 139****9000</strong>" in page.text and "13900139000" not in page.text \
        and "李四" not in page.text and borrower[2] not in page.text
    assert db.execute("select used_at from open_account_link where user_no = %s", (user_no,)).fetchone()["used_at"] \
        is None
    calls_before = len(agent.calls)
    used = client.post(f"/open-account/{token}")
    assert used.status_code == 200
    assert used.headers["Cache-Control"] == "no-store" and used.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in used.headers["Content-Security-Policy"]
    handoff = handoff_of(used.text)
    assert verify_token(app.config["TOKEN_SECRET"], handoff["token"]) == user_no
    assert int(handoff["expires-in"]) == app.config["TOKEN_TTL_SECONDS"]
    assert handoff["service-name"] == PERSONAL_REGISTER and handoff["depository-url"].endswith("/gateway")
    [(path, sent)] = agent.calls[calls_before:]
    assert path == "/l/consumers" and sent["requestNo"] == handoff["request-no"]
    assert {k: sent[k] for k in ("userNo", "fullname", "idNumber", "mobile", "bankCode", "cardNumber", "role",
                                 "callbackUrl")} == {
        "userNo": user_no, "fullname": "李四", "idNumber": borrower[2], "mobile": "13900139000", "bankCode": "ICBC",
        "cardNumber": "6222020200112341234", "role": "B", "callbackUrl": PUBLIC_URL + "/#/callback"}
    assert request_no_of({"reqData": handoff["req-data"]}) == handoff["request-no"]
    # the signed-in tab reads the borrower's own profile with the token
    profile = client.get("/my/consumers", headers={"Authorization": f"Bearer {handoff['token']}"})
    assert profile.json["result"]["userNo"] == user_no and profile.json["result"]["depositoryStatus"] == "PENDING"
    # used: nothing signed any more, however it is asked
    for again in (client.post(f"/open-account/{token}"), client.get(f"/open-account/{token}")):
        assert again.status_code == 410 and "链接已使用" in again.text and handoff_of(again.text) == {}
    assert len(agent.calls) == calls_before + 1


def test_a_link_expires_at_the_second(client, service, borrower, db, agent):
    token = new_link(client, service, borrower)
    # one second after expiry
    db.execute("update open_account_link set created_at = now() - interval '10 minutes',"
               " expires_at = now() - interval '1 second' where user_no = %s", (borrower[0],))
    calls_before = len(agent.calls)
    for answer in (client.get(f"/open-account/{token}"), client.post(f"/open-account/{token}")):
        assert answer.status_code == 410 and "链接已过期" in answer.text and handoff_of(answer.text) == {}
    assert len(agent.calls) == calls_before
    # one second before expiry it still works
    db.execute("update open_account_link set expires_at = now() + interval '1 second' where user_no = %s",
               (borrower[0],))
    assert client.post(f"/open-account/{token}").status_code == 200


def test_unknown_and_malformed_links_sign_nobody_in(client):
    assert client.post("/open-account/%00").status_code == 400  # refused before any route (shared.inputs)
    for token in ("A" * 43, "A" * 42, "a.b", "x" * 500, "<script>", "A" * 42 + "%C3%A9"):
        for answer in (client.get(f"/open-account/{token}"), client.post(f"/open-account/{token}")):
            assert answer.status_code == 404 and "链接无效" in answer.text and handoff_of(answer.text) == {}
            assert "<script>" not in answer.text.split("</head>")[1]


def test_an_opened_borrower_is_only_signed_in(client, service, borrower, settle, make_user, agent, app):
    user_no = borrower[0]
    first = new_link(client, service, borrower)
    request_no = handoff_of(client.post(f"/open-account/{first}").text)["request-no"]
    assert settle(PERSONAL_REGISTER, request_no) == notifications.APPLIED
    assert client.get(f"/internal/consumers/{user_no}", headers=service).json["result"]["depositoryStatus"] == "OPENED"
    token = new_link(client, service, borrower)
    calls_before = len(agent.calls)
    # sent from a browser where another user is signed in: the link signs in its own user
    other = make_user()
    handoff = handoff_of(client.post(f"/open-account/{token}", headers=other.headers).text)
    assert verify_token(app.config["TOKEN_SECRET"], handoff["token"]) == user_no
    assert handoff["depository-url"] == "" and handoff["request-no"] == ""
    assert len(agent.calls) == calls_before


def test_links_of_two_users_sign_in_each_their_own(client, service, app):
    users = []
    for _ in range(2):
        mobile, id_number = new_mobile(), new_id_number()
        user_no = client.post("/internal/consumers", json={"mobile": mobile, "fullname": "x", "idNumber": id_number},
                              headers=service).json["result"]["userNo"]
        users.append((user_no, new_link(client, service, (user_no, mobile, id_number))))
    for user_no, token in reversed(users):
        signed = handoff_of(client.post(f"/open-account/{token}").text)["token"]
        assert verify_token(app.config["TOKEN_SECRET"], signed) == user_no


def test_a_link_stays_usable_when_the_bank_request_cannot_be_made(client, service, borrower, agent):
    token = new_link(client, service, borrower)
    agent.fail_with = 503
    refused = client.post(f"/open-account/{token}")
    assert refused.status_code == 503 and "链接仍然有效" in refused.text and handoff_of(refused.text) == {}
    agent.fail_with = None
    assert client.get(f"/open-account/{token}").status_code == 200
    assert handoff_of(client.post(f"/open-account/{token}").text)["service-name"] == PERSONAL_REGISTER



def test_a_use_that_lost_to_one_undone_meanwhile_says_the_link_is_still_valid(client, service, borrower,
                                                                              monkeypatch):
    """A concurrent use marked the link used, this one was told it is gone, and then the other use was undone
    (the agent down) before this one read the link's state: valid again. 503, open it again; never a 500."""
    token = new_link(client, service, borrower)

    def lost(*_):
        raise borrowers.LinkGone("this link has been used")
    monkeypatch.setattr(borrowers, "follow_link", lost)
    answer = client.post(f"/open-account/{token}")
    assert answer.status_code == 503 and "链接仍然有效" in answer.text and handoff_of(answer.text) == {}
    monkeypatch.undo()
    assert handoff_of(client.post(f"/open-account/{token}").text)["service-name"] == PERSONAL_REGISTER


# ---- races between real processes --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web(infra, ledger, agent, tmp_path_factory):
    from tests.support.processes import WebService

    service = WebService("user_center", infra.service_env("user_center", LEDGER_URL=ledger.url,
                                                          DEPOSITORY_AGENT_URL=agent.url),
                         tmp_path_factory.mktemp("borrowers"), workers=4).start()
    yield service
    service.stop()


def race(calls: int, call) -> list:
    """``call()`` from ``calls`` threads released at once; their answers."""
    barrier, answers = threading.Barrier(calls), [None] * calls

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_calls_with_one_mobile_create_one_user(web, service, db):
    mobile, id_number = new_mobile(), new_id_number()
    body = {"mobile": mobile, "fullname": "并发", "idNumber": id_number}
    answers = race(12, lambda: requests.post(f"{web.url}/internal/consumers", json=body, headers=service, timeout=10))
    assert sorted(answer.status_code for answer in answers) == [200] * 11 + [201]
    assert len({answer.json()["result"]["userNo"] for answer in answers}) == 1
    assert db.execute("select count(*) as n from consumer where mobile = %s", (mobile,)).fetchone()["n"] == 1


def test_two_browsers_racing_on_one_link_exactly_one_wins(web, service, agent, db):
    mobile, id_number = new_mobile(), new_id_number()
    user_no = requests.post(f"{web.url}/internal/consumers", json={"mobile": mobile, "fullname": "x",
                                                                   "idNumber": id_number},
                            headers=service, timeout=10).json()["result"]["userNo"]
    url = requests.post(f"{web.url}/internal/open-account-links", json=link_body(user_no, id_number),
                        headers=service, timeout=10).json()["result"]["url"]
    token = LINK.fullmatch(url).group(1)
    answers = race(10, lambda: requests.post(f"{web.url}/open-account/{token}", timeout=10))
    assert sorted(answer.status_code for answer in answers) == [200] + [410] * 9
    assert sum(1 for answer in answers if handoff_of(answer.text)) == 1
    assert db.execute("select count(*) as n from depository_register where user_no = %s",
                      (user_no,)).fetchone()["n"] == 1

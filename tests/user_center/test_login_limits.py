"""Failed logins are limited per mobile and per client address, in Redis (or in process when it is down);
a device that logged in to an account before (its device cookie) is held back by neither."""
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from tests.support.processes import free_port
from tests.user_center.conftest import new_mobile

from user_center import device_cookies
from user_center.bootstrap import create_app
from user_center.tokens import verify_token

PASSWORD = "secret-pass-1"


def make_app(infra, ledger, agent, **settings):
    return create_app(infra.config(
        "user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url, LOGIN_MAX_FAILURES_PER_MOBILE=3,
        LOGIN_MAX_FAILURES_PER_ADDRESS=5, REDIS_PREFIX=f"{infra.redis_prefix}{uuid.uuid4().hex[:6]}:", **settings))


@pytest.fixture(scope="module")
def limited(infra, ledger, agent):
    return make_app(infra, ledger, agent)


def register(client) -> str:
    mobile = new_mobile()
    assert client.post("/consumers", json={"mobile": mobile, "password": PASSWORD}).status_code == 201
    return mobile


def login(client, mobile: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post("/tokens", json={"mobile": mobile, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_a_mobile_is_refused_after_its_failures_even_with_the_right_password(limited, infra):
    client = limited.test_client()
    mobile, address = register(client), "10.0.1.1"
    for _ in range(3):
        assert login(client, mobile, "wrong-password", address).status_code == 401
    refused = login(client, mobile, PASSWORD, address)
    assert refused.status_code == 429
    assert refused.json["code"] == 929 and "mobile" in refused.json["msg"] and refused.json["result"] is None
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    # the counter lives in Redis under the configured prefix
    keys = redis.Redis.from_url(infra.redis_url).keys(f"{limited.config['REDIS_PREFIX']}login-failures:mobile:{mobile}")
    assert len(keys) == 1
    # another user behind the same address is not affected
    other = register(client)
    assert login(client, other, PASSWORD, address).status_code == 200


def test_a_successful_login_clears_the_mobile_failures(limited):
    client = limited.test_client()
    mobile = register(client)
    for _ in range(2):
        assert login(client, mobile, "wrong-password", "10.0.2.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.2.1").status_code == 200
    for _ in range(2):
        assert login(client, mobile, "wrong-password", "10.0.2.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.2.1").status_code == 200


def test_an_address_is_refused_after_failures_across_mobiles(limited):
    client = limited.test_client()
    for _ in range(5):
        assert login(client, new_mobile(), "wrong-password", "10.0.3.1").status_code == 401
    mobile = register(client)
    refused = login(client, mobile, PASSWORD, "10.0.3.1")
    assert refused.status_code == 429 and "address" in refused.json["msg"]
    assert login(client, mobile, PASSWORD, "10.0.3.2").status_code == 200


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(limited, infra, ledger, agent):
    client = limited.test_client()
    for index in range(5):  # a client rotating X-Forwarded-For is still one address
        assert login(client, new_mobile(), "wrong", "10.0.4.1", **{"X-Forwarded-For": f"1.2.3.{index}"}).status_code == 401
    assert login(client, new_mobile(), "wrong", "10.0.4.1", **{"X-Forwarded-For": "9.9.9.9"}).status_code == 429

    proxied = make_app(infra, ledger, agent, TRUSTED_PROXY_COUNT=1).test_client()
    for _ in range(5):  # behind one trusted proxy the last X-Forwarded-For entry is the client
        assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "6.6.6.6, 7.7.7.7"}).status_code == 401
    assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "6.6.6.6, 7.7.7.7"}).status_code == 429
    assert login(proxied, new_mobile(), "wrong", "10.0.4.9", **{"X-Forwarded-For": "7.7.7.8"}).status_code == 401


def test_the_window_ends(infra, ledger, agent):
    client = make_app(infra, ledger, agent, LOGIN_FAILURE_WINDOW_SECONDS=1).test_client()
    mobile = register(client)
    for _ in range(3):
        assert login(client, mobile, "wrong-password", "10.0.5.1").status_code == 401
    assert login(client, mobile, PASSWORD, "10.0.5.1").status_code == 429
    time.sleep(2.1)
    assert login(client, mobile, PASSWORD, "10.0.5.1").status_code == 200


def test_with_redis_down_the_limits_hold_in_process(infra, ledger, agent, capfd):
    client = make_app(infra, ledger, agent, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    mobile = register(client)
    for _ in range(3):
        assert login(client, mobile, "wrong-password", "10.0.6.1").status_code == 401
    started = time.monotonic()
    assert login(client, mobile, PASSWORD, "10.0.6.1").status_code == 429
    assert time.monotonic() - started < 1  # no waiting on the dead Redis for every call
    assert "Redis unreachable" in capfd.readouterr().err  # the JSON log line on stderr


# ---- device cookies: strangers never lock a returning device out -----------------------------------

def device_cookie(client) -> str | None:
    cookie = client.get_cookie(device_cookies.COOKIE_NAME, path=device_cookies.COOKIE_PATH)
    return cookie.value if cookie else None


def returning_device(app, mobile: str, address: str = "10.1.0.1"):
    """A client (its own cookie jar) that has logged in to ``mobile`` once: it holds the device cookie."""
    device = app.test_client()
    assert login(device, mobile, PASSWORD, address).status_code == 200
    assert device_cookie(device)
    return device


def test_strangers_behind_the_same_address_do_not_lock_out_a_returning_device(limited):
    mobile = register(limited.test_client())
    device = returning_device(limited, mobile, "10.1.1.1")
    strangers = limited.test_client()
    for _ in range(5):  # the address's failures are used up by strangers guessing at other accounts
        assert login(strangers, new_mobile(), "wrong-password", "10.1.1.1").status_code == 401
    newcomer = register(limited.test_client())
    refused = login(limited.test_client(), newcomer, PASSWORD, "10.1.1.1")
    assert refused.status_code == 429 and "address" in refused.json["msg"]
    assert login(device, mobile, PASSWORD, "10.1.1.1").status_code == 200  # the returning device is let in


def test_strangers_locking_an_account_do_not_lock_out_its_returning_device(limited):
    mobile = register(limited.test_client())
    device = returning_device(limited, mobile)
    for index in range(3):  # strangers from three addresses guess the account's password
        assert login(limited.test_client(), mobile, "wrong-password", f"10.1.2.{index}").status_code == 401
    refused = login(limited.test_client(), mobile, PASSWORD, "10.1.2.9")  # an unknown device, even with the password
    assert refused.status_code == 429 and "mobile" in refused.json["msg"]
    answer = login(device, mobile, PASSWORD, "10.1.2.9")
    assert answer.status_code == 200 and answer.json["result"]["access_token"]
    assert login(device, mobile, PASSWORD, "10.1.2.9").status_code == 200  # and again, with the renewed cookie


def test_a_stolen_device_cookie_buys_only_a_small_failure_budget(infra, ledger, agent):
    app = make_app(infra, ledger, agent, LOGIN_MAX_FAILURES_PER_DEVICE=2)
    mobile = register(app.test_client())
    thief = returning_device(app, mobile)
    for _ in range(2):
        assert login(thief, mobile, "guess-password", "10.1.3.1").status_code == 401
    refused = login(thief, mobile, "another-guess", "10.1.3.1")
    assert refused.status_code == 429 and "device" in refused.json["msg"]
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert login(thief, mobile, PASSWORD, "10.1.3.1").status_code == 429  # locked, whatever the password
    # the device's failures are its own: they count neither against the account nor the address
    assert login(app.test_client(), mobile, PASSWORD, "10.1.3.1").status_code == 200


def test_a_device_cookie_vouches_only_for_the_account_it_was_given_for(limited):
    client = limited.test_client()
    alice, bob = register(client), register(client)
    alices_device = returning_device(limited, alice)
    for index in range(3):
        assert login(limited.test_client(), bob, "wrong-password", f"10.1.4.{index}").status_code == 401
    replayed = login(alices_device, bob, PASSWORD, "10.1.4.9")  # alice's cookie, bob's locked account
    assert replayed.status_code == 429 and "mobile" in replayed.json["msg"]
    assert login(alices_device, alice, PASSWORD, "10.1.4.9").status_code == 200


def forged_cookies(secret: str, user_no: str, access_token: str) -> dict[str, str]:
    """Cookie values that must vouch for nothing, by what is wrong with them."""
    genuine = device_cookies.issue(secret, user_no, 3600)
    version, owner, device_id, expires, mac = genuine.split(".")
    other_user = "USR_" + "0" * 32
    return {
        "other account, same mac": ".".join([version, other_user, device_id, expires, mac]),
        "expiry pushed out": ".".join([version, owner, device_id, str(int(expires) + 10**6), mac]),
        "device id changed": ".".join([version, owner, ("A" if device_id[0] != "A" else "B") + device_id[1:],
                                       expires, mac]),
        "mac changed": ".".join([version, owner, device_id, expires, ("A" if mac[0] != "A" else "B") + mac[1:]]),
        "signed with another secret": device_cookies.issue("another-secret", user_no, 3600),
        "expired a second ago": device_cookies.issue(secret, user_no, 3600, now=time.time() - 3601),
        "another version": genuine.replace("v1.", "v2.", 1),
        "an access token": access_token,
        "padding added": genuine + "=",
        "empty": "",
    }


def test_tampered_expired_or_foreign_cookies_vouch_for_nothing(limited):
    client = limited.test_client()
    mobile = register(client)
    token = login(client, mobile, PASSWORD, "10.1.5.1").json["result"]["access_token"]
    user_no = verify_token(limited.config["TOKEN_SECRET"], token)
    for index in range(3):
        assert login(limited.test_client(), mobile, "wrong-password", f"10.1.5.{index}").status_code == 401
    for what, value in forged_cookies(limited.config["TOKEN_SECRET"], user_no, token).items():
        attacker = limited.test_client()
        attacker.set_cookie(device_cookies.COOKIE_NAME, value, path=device_cookies.COOKIE_PATH)
        assert login(attacker, mobile, PASSWORD, "10.1.5.9").status_code == 429, what
    # the control: a cookie made exactly like the server's, for this account and unexpired, is honoured
    genuine = limited.test_client()
    genuine.set_cookie(device_cookies.COOKIE_NAME, device_cookies.issue(limited.config["TOKEN_SECRET"], user_no, 60),
                       path=device_cookies.COOKIE_PATH)
    assert login(genuine, mobile, PASSWORD, "10.1.5.9").status_code == 200


def test_a_device_cookie_is_not_an_access_token(limited):
    client = limited.test_client()
    mobile = register(client)
    assert login(client, mobile, PASSWORD, "10.1.6.1").status_code == 200
    answer = client.get("/my/consumers", headers={"Authorization": f"Bearer {device_cookie(client)}"})
    assert answer.status_code == 401


def set_cookie_attributes(answer) -> dict[str, str]:
    (header,) = [value for value in answer.headers.getlist("Set-Cookie")
                 if value.startswith(device_cookies.COOKIE_NAME + "=")]
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def test_the_device_cookie_is_httponly_strict_kept_to_the_login_and_expires(limited):
    client = limited.test_client()
    mobile = register(client)
    failed = login(client, mobile, "wrong-password", "10.1.7.1")
    assert not any(value.startswith(device_cookies.COOKIE_NAME) for value in failed.headers.getlist("Set-Cookie"))
    attributes = set_cookie_attributes(login(client, mobile, PASSWORD, "10.1.7.1"))
    assert attributes["path"] == "/tokens" and attributes["samesite"] == "Strict" and "httponly" in attributes
    assert int(attributes["max-age"]) == 90 * 86400
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    over_https = limited.test_client().post("/tokens", json={"mobile": mobile, "password": PASSWORD},
                                            base_url="https://localhost", environ_base={"REMOTE_ADDR": "10.1.7.2"})
    assert "secure" in set_cookie_attributes(over_https)


def test_the_device_cookie_is_secure_behind_a_tls_proxy_or_by_setting(infra, ledger, agent):
    proxied = make_app(infra, ledger, agent, TRUSTED_PROXY_COUNT=1)
    mobile = register(proxied.test_client())
    https = login(proxied.test_client(), mobile, PASSWORD, "10.1.8.1", **{"X-Forwarded-Proto": "https"})
    assert "secure" in set_cookie_attributes(https)
    spoofed = login(proxied.test_client(), mobile, PASSWORD, "10.1.8.1", **{"X-Forwarded-Proto": "https, http"})
    assert "secure" not in set_cookie_attributes(spoofed)  # the proxy's own entry (the right-most) says http
    forced = make_app(infra, ledger, agent, DEVICE_COOKIE_SECURE=True)
    assert "secure" in set_cookie_attributes(login(forced.test_client(), mobile, PASSWORD, "10.1.8.2"))


def test_a_locked_account_answers_exactly_like_an_unknown_mobile(limited):
    registered, unknown = register(limited.test_client()), new_mobile()
    answers = {}
    for mobile in (registered, unknown):
        for index in range(3):
            assert login(limited.test_client(), mobile, "wrong-password", f"10.1.9.{index}").status_code == 401
        answers[mobile] = login(limited.test_client(), mobile, PASSWORD, "10.1.9.8")
    first, second = answers[registered], answers[unknown]
    assert first.status_code == second.status_code == 429
    assert first.json == second.json
    varying = {"X-Request-Id", "Retry-After"}
    assert sorted((k, v) for k, v in first.headers if k not in varying) == \
        sorted((k, v) for k, v in second.headers if k not in varying)
    assert abs(int(first.headers["Retry-After"]) - int(second.headers["Retry-After"])) <= 2


def test_parallel_guesses_cannot_pass_the_limit(limited):
    """Counted before the password is hashed: 12 guesses at once, while the first are still hashing, get 3 tries."""
    mobile = register(limited.test_client())
    start = threading.Barrier(12)

    def guess(index: int) -> int:
        client = limited.test_client()
        start.wait()
        return login(client, mobile, f"guess-{index}-password", f"10.2.0.{index}").status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = sorted(pool.map(guess, range(12)))
    assert statuses == [401] * 3 + [429] * 9


def test_an_ipv6_client_counts_as_its_64_network(limited):
    for index in range(5):  # one host rotating through the addresses of its /64
        assert login(limited.test_client(), new_mobile(), "wrong", f"2001:db8:1:2::{index + 1:x}").status_code == 401
    assert login(limited.test_client(), new_mobile(), "wrong", "2001:db8:1:2:ffff::9").status_code == 429
    assert login(limited.test_client(), new_mobile(), "wrong", "2001:db8:1:3::1").status_code == 401


def test_with_redis_down_a_returning_device_still_logs_in(infra, ledger, agent):
    app = make_app(infra, ledger, agent, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    mobile = register(app.test_client())
    device = returning_device(app, mobile)
    for index in range(3):
        assert login(app.test_client(), mobile, "wrong-password", f"10.2.1.{index}").status_code == 401
    assert login(app.test_client(), mobile, PASSWORD, "10.2.1.9").status_code == 429
    assert login(device, mobile, PASSWORD, "10.2.1.9").status_code == 200


def test_behind_the_ingress_strangers_never_lock_out_the_platform(procs, infra, ledger, agent):
    """user-center under gunicorn behind one trusted proxy (the ingress): the client writes the left of
    X-Forwarded-For, the ingress appends the address it saw; cookies travel over real HTTP."""
    env = infra.service_env("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                            TRUSTED_PROXY_COUNT=1, LOGIN_MAX_FAILURES_PER_MOBILE=3, LOGIN_MAX_FAILURES_PER_ADDRESS=5,
                            REDIS_PREFIX=f"{infra.redis_prefix}{uuid.uuid4().hex[:6]}:")
    center = procs.web("user_center", env)

    def via_ingress(session, mobile: str, password: str, client: str, written_by_client: str = ""):
        forwarded = f"{written_by_client}, {client}" if written_by_client else client
        return session.post(f"{center.url}/tokens", json={"mobile": mobile, "password": password},
                            headers={"X-Forwarded-For": forwarded}, timeout=10)

    mobile = new_mobile()
    assert requests.post(f"{center.url}/consumers", json={"mobile": mobile, "password": PASSWORD},
                         timeout=10).status_code == 201
    owner = requests.Session()
    assert via_ingress(owner, mobile, PASSWORD, "100.64.0.7").status_code == 200  # behind the carrier's NAT
    assert owner.cookies.get(device_cookies.COOKIE_NAME)

    stranger = requests.Session()
    for index in range(5):  # the stranger, behind the same NAT, rotates what it writes itself
        answer = via_ingress(stranger, new_mobile(), "wrong-password", "100.64.0.7", f"198.51.100.{index}")
        assert answer.status_code == 401
    assert via_ingress(stranger, new_mobile(), "wrong-password", "100.64.0.7", "203.0.113.1").status_code == 429
    for _ in range(3):
        assert via_ingress(stranger, mobile, "wrong-password", "192.0.2.50").status_code == 401
    # the owner, back behind the same NAT, is held back neither by the address nor by the account lockout
    assert via_ingress(owner, mobile, PASSWORD, "100.64.0.7").status_code == 200
    # someone else of the platform, behind another address, never noticed
    other = new_mobile()
    assert requests.post(f"{center.url}/consumers", json={"mobile": other, "password": PASSWORD},
                         timeout=10).status_code == 201
    assert via_ingress(requests.Session(), other, PASSWORD, "100.64.9.9").status_code == 200

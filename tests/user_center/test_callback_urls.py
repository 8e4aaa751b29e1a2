"""callbackUrl must lead back to the configured prefixes (the frontend's origin): anything else is a 400 that
stores and sends nothing, so the bank can never redirect a user to a stranger's site."""
import json
import shutil
import subprocess

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.user_center.conftest import CALLBACK, open_form

from user_center.bootstrap import create_app
from user_center.callback_urls import allowed, parse_prefixes

PREFIX = "http://127.0.0.1:8001/"
HOSTILE = [
    "https://evil.example/#/callback",
    "http://127.0.0.1:8001@evil.com/",
    "http://127.0.0.1:8001.evil.com/",
    "http://127.0.0.1:80011/",
    "http://127.0.0.1:8001\\@evil.com/",
    "http://127.0.0.1:8001/\\evil.com",
    "http://127.0.0.1:8001\\.evil.com/",
    "http://127.0.0.1:8001/\t/evil.com",
    "http://127.0.0.1:8001/\n",
    "http://127.0.0.1:8001/ #/callback",
    "HTTP://127.0.0.1:8001/#/callback",
    "http://127.0.0.1:8001//evil.com/",
    "http://127.0.0.1:8001/a//b",
    "http://user@127.0.0.1:8001/",
    "http://user:pass@127.0.0.1:8001/",
    "http://127.0.0.1:8001/%2e%2e/",
    "http://127.0.0.1:8001/%2E%2e/x",
    "http://127.0.0.1:8001/./x",
    "http://127.0.0.1:8001/x/%2f/y",
    "http://127.0.0.1:8001/x%5c..",
    "http://127.0.0.1:8001/é",
    "http:/127.0.0.1:8001/",
    "http:127.0.0.1:8001/",
    "//127.0.0.1:8001/",
    "https://127.0.0.1:8001/",
    "http://127.0.0.1:8002/",
    "http://127.0.0.1/",
    "http://localhost:8001/",
    "http://127.0.0.1.:8001/",
    "javascript:alert(1)//http://127.0.0.1:8001/",
    "http://127.0.0.1:8001/\u0000",
    "",
]


def count(db, table: str) -> int:
    return db.execute(f"select count(*) as n from {table}").fetchone()["n"]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_callback_url_outside_the_prefixes_is_400_on_every_form_and_nothing_is_stored(
        idle_user, idle_new_user, agent, ledger, db, url):
    tables = ("depository_register", "recharge_record", "withdraw_record")
    before, calls = [count(db, table) for table in tables], len(agent.calls)
    answers = [idle_new_user.post("/my/consumers", open_form(callbackUrl=url))]
    for path in ("/my/recharge-records", "/my/withdraw-records"):
        answers.append(idle_user.post(path, {"amount": "1.00", "callbackUrl": url}))
        answers.append(idle_user.get(path, query_string={"amount": "1.00", "callbackUrl": url}))
    for answer in answers:
        assert answer.status_code == 400 and answer.json["code"] == 903, answer.json
        if "\u0000" in url:  # every service refuses NUL in any input before a field rule runs
            assert answer.json["msg"].startswith("invalid input: ") and "NUL" in answer.json["msg"]
        else:
            assert "callbackUrl" in answer.json["msg"] and PREFIX in answer.json["msg"]
    assert [count(db, table) for table in tables] == before and len(agent.calls) == calls
    assert ledger.trade_nos(idle_user.user_no, 2) == []  # no withdraw hold either


@pytest.mark.parametrize("url", [CALLBACK, PREFIX, PREFIX + "app/#/callback?x=1", PREFIX + "?a=b#c",
                                 PREFIX + "@evil.com", PREFIX + "#//evil.com/"])
def test_a_callback_url_inside_the_prefix_is_signed_as_given(opened_user, agent, url):
    user = opened_user()
    answer = user.post("/my/recharge-records", {"amount": "1.00", "callbackUrl": url})
    assert answer.status_code == 200, answer.json
    assert agent.calls[-1][1]["callbackUrl"] == url


def test_the_prefixes_come_from_the_setting(infra, ledger, agent, opened_user):
    app = create_app(infra.config("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url,
                                  CALLBACK_URL_PREFIXES="https://platform.example.com/app/, http://127.0.0.1:9"))
    user = opened_user()
    client = app.test_client()

    def status(url: str) -> int:
        return client.post("/my/recharge-records", json={"amount": "1.00", "callbackUrl": url},
                           headers=user.headers).status_code

    assert status("https://platform.example.com/app/#/callback") == 200
    assert status("http://127.0.0.1:9/#/callback") == 200
    for refused in ("https://platform.example.com/application", "http://127.0.0.1:9", "https://platform.example.com/app/../admin",
                    "https://platform.example.com/", CALLBACK, "http://127.0.0.1:9.evil.com/",
                    "http://127.0.0.1:9@evil.com/"):
        assert status(refused) == 400, refused


@pytest.mark.parametrize("prefixes", ["", " , ", "ftp://example.com/", "http://user@example.com/",
                                      "http://example.com/?next=", "example.com", "http://example.com/#x"])
def test_a_bad_prefix_stops_the_start(infra, prefixes):
    with pytest.raises(ValueError, match="CALLBACK_URL_PREFIXES"):
        create_app(infra.config("user_center", CALLBACK_URL_PREFIXES=prefixes))


# ---- property: what the rule accepts, a browser reads as the prefix's origin and path ----------------

BROWSER_URL = """
const lines = require("readline").createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let answer;
  try {
    const url = new URL(JSON.parse(line));
    answer = { origin: url.origin, path: url.pathname, user: url.username + url.password };
  } catch (err) { answer = null; }
  process.stdout.write(JSON.stringify(answer) + "\\n");
});
"""


class Browser:
    """Node's WHATWG URL parser, the one browsers implement: an independent reading of each URL."""

    def __init__(self):
        self.process = subprocess.Popen(["node", "-e", BROWSER_URL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)

    def read(self, url: str) -> dict | None:
        self.process.stdin.write(json.dumps(url) + "\n")
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("node"):
        pytest.skip("no JavaScript engine for the browser's URL parser")
    reader = Browser()
    yield reader
    reader.close()


RULES = parse_prefixes("http://127.0.0.1:8001/, https://platform.example.com/app/")
PIECES = ["http", "HTTP", "https", "javascript", ":", "://", ":/", ":\\\\", "//", "/", "\\", "@", ".", "..",
          "%2e", "%2E", "%2f", "%5c", "%40", "%00", "\t", "\n", " ", "#", "?", "127.0.0.1", ":8001", "8001",
          "evil.com", "platform.example.com", "app", "app/", "user:pw", "[::1]", "0x7f.1", "é", "\u3000", ";", "&"]
prefixed = st.tuples(st.sampled_from([rule.text for rule in RULES]),
                     st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=6)).map(
    lambda parts: parts[0] + "".join(parts[1]))
assembled = st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join)
near_prefix = st.tuples(st.sampled_from([rule.text for rule in RULES]), st.integers(0, 40),
                        st.sampled_from(PIECES)).map(lambda parts: parts[0][:parts[1]] + parts[2] + parts[0][parts[1]:])


@settings(max_examples=600, deadline=None)
@given(url=prefixed | assembled | near_prefix)
@example(url="http://127.0.0.1:8001@evil.com/")
@example(url="http://127.0.0.1:8001.evil.com/")
@example(url="https://platform.example.com/app/..%2f..%2fadmin")
@example(url="https://platform.example.com/app/%2e%2e/admin")
@example(url="https://platform.example.com/app\\..\\admin")
@example(url="https://platform.example.com/app/\t../admin")
def test_whatever_the_rule_accepts_a_browser_reads_inside_the_prefix(browser, url):
    if not allowed(url, RULES):
        return
    seen = browser.read(url)
    assert seen is not None and seen["user"] == "", url
    assert any(url.startswith(rule.text) and seen["origin"] == f"{rule.place.scheme}://{rule.text.split('/')[2]}"
               and seen["path"].startswith(rule.place.path) for rule in RULES), (url, seen)


@settings(max_examples=300, deadline=None)
@given(suffix=st.text(alphabet="abcXYZ019-._~!$&'()*+,;=:@/?#", max_size=20).filter(
    lambda text: "//" not in text.split("?")[0].split("#")[0] and "." not in text.split("?")[0].split("#")[0]))
def test_the_frontends_own_urls_are_accepted(suffix):
    assert allowed("http://127.0.0.1:8001/" + suffix.lstrip("/"), RULES)

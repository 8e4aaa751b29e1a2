"""A borrower's one-time open-account link in a real Chromium: the link's page, the bank's account-opening
page, back to the platform signed in, and 我的借款 with the loan and its plan; the used link refused; a
second link for the opened account only signs in. lending is a stand-in answering ``/internal/loans``
(checked against lending's own schema); every other service runs as a real process."""
import uuid

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, Screenshots
from tests.browser.test_walkthrough import NOTIFIED, Walk, new_mobile
from tests.e2e.conftest import FAST
from tests.support.stack import start_stack
from tests.user_center.standins import LendingStandIn, loan_of

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def lending_stack(chromium, infra, tmp_path_factory):
    """The stack, its user-center reading loans from a lending stand-in: ``(stack, stand-in)``."""
    lending = LendingStandIn(infra.internal_token).start()
    running = start_stack(infra, tmp_path_factory.mktemp("stack"), settings={**FAST, "LENDING_URL": lending.url})
    yield running, lending
    running.stop()
    lending.stop()


def new_link(user_center: str, token: str) -> tuple[str, dict, str]:
    """A new borrower and a link for them, as lending asks: ``(userNo, the link's fields, url)``."""
    service = {"Authorization": f"Bearer {token}"}
    mobile, id_number = new_mobile(), str(uuid.uuid4().int)[:17] + "X"
    user_no = requests.post(f"{user_center}/internal/consumers", headers=service, timeout=10, json={
        "mobile": mobile, "fullname": "刘借款", "idNumber": id_number}).json()["result"]["userNo"]
    link = {"userNo": user_no, "fullname": "刘借款", "idNumber": id_number, "mobile": mobile, "bankCode": "ICBK",
            "cardNumber": "6222020200198765432", "role": "B", "validMinutes": 10}
    url = requests.post(f"{user_center}/internal/open-account-links", headers=service, timeout=10,
                        json=link).json()["result"]["url"]
    return user_no, link, url


def test_a_one_time_link_opens_the_account_and_shows_my_loans(lending_stack, page, infra):
    stack, lending = lending_stack
    user_center = stack.url("user_center")
    user_no, link, url = new_link(user_center, infra.internal_token)
    assert url.startswith(user_center + "/open-account/")
    lending.loans[user_no] = [loan_of(user_no)]
    shots = Screenshots(ARTIFACTS, "lending-link-")
    walk = Walk(page, shots)
    bank_requests = []
    page.on("request", lambda request: bank_requests.append(request) if "/gateway" in request.url else None)

    # The link's page uses nothing up: a button signs in and goes on to the bank.
    page.goto(url)
    expect(page.locator("#link-continue")).to_be_visible()
    shots(page, "link-page")
    walk.open_account_through_link("刘借款")
    # the bank was not told the link (no Referer), and the token never was in a URL
    assert bank_requests and all(request.headers.get("referer") is None for request in bank_requests)
    assert all(url.rsplit("/", 1)[1] not in request.url for request in bank_requests)
    shots(page, "callback-account-opened")

    # 我的借款: the loan with its amount, term, status and plan.
    page.click("nav a[href='#/loans']")
    loan = page.locator(f"article.loan[data-borrow-no='BRW_{user_no[4:]}']")
    expect(loan).to_be_visible()
    expect(loan.locator(".loan-amount")).to_have_text("¥3000.00")
    expect(loan.locator(".loan-term")).to_have_text("3 个月")
    expect(loan.locator("h3")).to_contain_text("还款中")
    expect(loan.locator("tbody tr")).to_have_count(3)
    expect(loan.locator("tbody tr").first).to_contain_text("已还")
    expect(loan.locator("tbody tr").nth(1)).to_contain_text("1045.01")
    assert lending.asked[-1] == user_no
    shots(page, "my-loans")

    # The same link again: used, nobody signed in by it.
    other = page.context.browser.new_context(locale="zh-CN")
    stranger = other.new_page()
    stranger.goto(url)
    expect(stranger.locator("#link-error")).to_contain_text("已经使用过")
    shots(stranger, "link-used")
    stranger.goto(user_center + "/#/loans")
    expect(stranger.locator("#view-auth")).to_be_visible()
    other.close()

    # A new link for the opened account only signs in, straight to 我的借款.
    again = requests.post(f"{user_center}/internal/open-account-links", timeout=10, json=link,
                          headers={"Authorization": f"Bearer {infra.internal_token}"}).json()["result"]["url"]
    fresh = page.context.browser.new_context(locale="zh-CN")
    tab = fresh.new_page()
    tab.goto(again)
    tab.click("#link-continue")
    tab.wait_for_url("**/#/loans")
    expect(tab.locator(f"article.loan[data-borrow-no='BRW_{user_no[4:]}']")).to_be_visible(timeout=NOTIFIED)
    shots(tab, "second-link-signed-in")
    fresh.close()


def test_lending_down_is_explained_on_my_loans(lending_stack, page, infra):
    stack, lending = lending_stack
    user_center = stack.url("user_center")
    _, _, url = new_link(user_center, infra.internal_token)
    page.goto(url)
    page.click("#link-continue")
    page.wait_for_url("**/gateway?**")
    lending.answer = (503, {"code": 950, "msg": "down"})
    try:
        page.goto(user_center + "/#/loans")
        expect(page.locator("#message")).to_contain_text("服务暂时不可用")
        expect(page.locator("#message")).to_contain_text("lending answered 503")
        Screenshots(ARTIFACTS, "lending-down-")(page, "my-loans")
    finally:
        lending.answer = None

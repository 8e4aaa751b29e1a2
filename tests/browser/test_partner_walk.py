"""A loan walked by hand in a real Chromium, every service a real process: the partner sandbox's page pushes
an order through its form, binds a card and confirms through its buttons once lending approved it (the
order's own page shows lending's state); the open-account link it shows leads to user-center's link page
and on to the bank's account-opening page; back on the partner page a second confirmation is accepted,
lending disburses, and user-center's 我的借款 (signed in by the link) shows the loan with its plan. At the
end the borrower's available balance at the bank equals their ledger balance."""
import pytest

from tests.browser.conftest import ARTIFACTS, Screenshots
from tests.browser.test_walkthrough import Walk
from tests.e2e.conftest import FAST as PLATFORM_FAST
from tests.lending.conftest import FAST as LENDING_FAST
from tests.lending.conftest import new_person
from tests.support.lending_platform import AMOUNT, FEE, TERM, Platform, fen, start_lending_platform
from tests.support.waiting import wait_for

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

APPROVED, DISBURSED = "6001", "7001"  # audit/result and loan/result statuses


@pytest.fixture(scope="module")
def platform(chromium, infra, tmp_path_factory) -> Platform:
    """The whole lending platform as real processes, with a funded funder."""
    settings = {**PLATFORM_FAST, **{key: str(value) for key, value in LENDING_FAST.items()}}
    running = start_lending_platform(infra, tmp_path_factory.mktemp("partner-walk"), settings)
    yield Platform(running)
    running.stop()


def reload_until(page, query: str, status: str, what: str) -> None:
    """Reload the order's page, as a person waiting would, until lending's ``query`` answers ``status``."""
    cell = page.locator(f"tr.query[data-query='{query}'] td.status")

    def shown() -> bool:
        page.reload()
        return cell.inner_text() == status

    wait_for(shown, timeout=90, interval=0.5, what=what)


def test_a_loan_walked_through_the_partner_page_the_bank_and_my_loans(platform, page):
    sandbox, user_center = platform.stack.url("partner_sandbox"), platform.stack.url("user_center")
    shots = Screenshots(ARTIFACTS, "partner-walk-")
    walk = Walk(page, shots)
    who = new_person(name="陈借款")

    # The partner pushes an order from its form.
    page.goto(sandbox + "/")
    form = page.locator("form#push")
    form.locator("input[name=name]").fill(who["name"])
    form.locator("input[name=mobile]").fill(who["mobile"])
    form.locator("input[name=idNumber]").fill(who["idNumber"])
    form.locator("input[name=loanAmount]").fill(str(AMOUNT))
    form.locator("input[name=loanTerm]").fill(str(TERM))
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "#" in url)
    order_no = page.url.rsplit("#", 1)[1]
    order = page.locator(f"section[id='{order_no}']")
    expect(order.locator("p").first).to_contain_text(f"陈借款 · {who['mobile']} · {AMOUNT} fen · {TERM} months")
    expect(order.locator("tr", has_text="order/push")).to_contain_text('"code": 0')
    shots(page, "order-pushed")

    # Its own page shows lending's state; reloaded until the credit engine approved it.
    order.locator(f"a[href='/page/orders/{order_no}']").click()
    page.wait_for_url(f"**/page/orders/{order_no}")
    reload_until(page, "audit/result", APPROVED, "approval shown on the order's page")
    expect(page.locator("tr.query[data-query='loan/result'] td.code")).not_to_have_text("0")
    shots(page, "order-approved")

    # A card bound, then the first confirmation: the account is not open, the answer carries the link. Each
    # form comes back to the order's own page.
    on_its_page = f"**/page/orders/{order_no}"
    page.click("button[name=bind]")
    page.wait_for_url(on_its_page)
    expect(order.locator("tr", has_text="card/bind")).to_contain_text('"bound": true')
    page.click(f"section[id='{order_no}'] button[name=confirm]")
    page.wait_for_url(on_its_page)
    link = order.locator("a.open-account")
    expect(link).to_have_count(1)
    expect(order.locator("tr", has_text="loan/confirm")).to_contain_text('"status": "OPEN_ACCOUNT"')
    assert link.get_attribute("href").startswith(user_center + "/open-account/")
    shots(page, "confirm-open-account")

    # The link: user-center's page, its button, the bank's account-opening page, the transaction password.
    link.click()
    expect(page.locator("#link-continue")).to_be_visible()
    shots(page, "link-page")
    walk.open_account_through_link("陈借款")
    shots(page, "account-opened")

    # Back on the partner's page: confirmed again, accepted with a borrow number, then disbursed.
    page.goto(f"{sandbox}/page/orders/{order_no}")
    page.click("button[name=confirm]")
    page.wait_for_url(on_its_page)
    confirms = order.locator("tr", has_text="loan/confirm")
    expect(confirms).to_have_count(2)
    expect(confirms.last).to_contain_text('"status": "ACCEPTED"')  # the calls are listed oldest first
    [borrow] = platform.borrows(order_no)
    expect(confirms.last).to_contain_text(borrow["borrow_no"])
    shots(page, "confirm-accepted")
    page.goto(f"{sandbox}/page/orders/{order_no}")
    reload_until(page, "loan/result", DISBURSED, "disbursement shown on the order's page")
    # the loan.succeeded callback follows the disbursement through lending's outbox, moments later
    succeeded = page.locator("tr.callback", has_text="loan.succeeded")
    wait_for(lambda: page.reload() or succeeded.count() == 1, timeout=60, interval=0.5, what="loan.succeeded shown")
    shots(page, "disbursed")

    # 我的借款 in the same browser, signed in by the link: the loan and its six periods.
    page.goto(user_center + "/#/loans")
    loan = page.locator(f"article.loan[data-borrow-no='{borrow['borrow_no']}']")
    expect(loan).to_be_visible()
    expect(page.locator("article.loan")).to_have_count(1)
    expect(loan.locator(".loan-amount")).to_have_text(f"¥{AMOUNT // 100}.00")
    expect(loan.locator(".loan-term")).to_have_text(f"{TERM} 个月")
    expect(loan.locator("h3")).to_contain_text("还款中")
    expect(loan.locator("tbody tr")).to_have_count(TERM)
    for row in loan.locator("tbody tr").all():
        expect(row).to_contain_text("待还")
    shots(page, "my-loans")

    # What the borrower holds: the loan less the service fee, the same at the bank and in the ledger.
    user_no = borrow_user(platform, order_no)
    wait_for(lambda: platform.differences([user_no]) == {}, timeout=60, what="bank = ledger for the borrower")
    assert fen(platform.bank(user_no)["balance"]) == platform.ledger(user_no) == AMOUNT - FEE


def borrow_user(platform: Platform, order_no: str) -> str:
    with platform.database() as conn:
        return conn.execute("select user_no from borrows where order_no = %s", (order_no,)).fetchone()["user_no"]

"""A user's whole walk through the web frontend and the bank's pages, in a real Chromium.

Every service and worker runs as a real process (``start_stack``); the browser registers, logs in,
opens the depository account at the sandbox bank (transaction password typed twice), recharges,
withdraws (commission shown), cancels a withdraw at the bank and sees the hold returned, reads both
record lists, and follows Huifu page callbacks through bank-callback. Screenshots of each step are
saved to ``test-artifacts/browser/``.
"""
import re
import uuid
from urllib.parse import quote

import pytest
import requests

from tests.browser.conftest import COMMISSION, LOGIN_FAILURES_ALLOWED

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                               "(pip install playwright==1.65.2; it downloads no browser, /usr/bin/chromium is used)")
expect = sync_api.expect

BANK_PASSWORD = "246810"
LOGIN_PASSWORD = "s3cret-pass"
NOTIFIED = 20_000  # ms: bank -> agent -> RabbitMQ -> consumer -> ledger, with the test stack's fast timings


def new_mobile() -> str:
    return "13" + str(uuid.uuid4().int)[:9]


class Walk:
    """One user's browser tab on the platform's frontend."""

    def __init__(self, page, shots):
        self.page = page
        self.shots = shots

    def shot(self, name: str) -> None:
        self.shots(self.page, name)

    def message(self):
        return self.page.locator("#message")

    def log_in(self, mobile: str, password: str) -> None:
        self.page.fill("#login-form [name=mobile]", mobile)
        self.page.fill("#login-form [name=password]", password)
        self.page.click("#login-form button[type=submit]")

    def go_to_bank(self, form: str) -> None:
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_url("**/gateway?**")
        expect(self.page.locator(".bank-name")).to_contain_text("存管银行")

    def confirm_at_bank(self, password: str = BANK_PASSWORD) -> None:
        self.page.fill("#password", password)
        self.page.click("button[value=confirm]")

    def open_account_through_link(self, fullname: str) -> None:
        """On a one-time link's page (which names whose account it opens, masked): its button, the bank's
        account-opening page for ``fullname`` (shot), the transaction password twice, and the callback page
        once the account is opened."""
        expect(self.page.locator("#link-holder")).to_contain_text(fullname[0] + "*" * (len(fullname) - 1) + " · ")
        self.page.click("#link-continue")
        self.page.wait_for_url("**/gateway?**")
        expect(self.page.locator("h1")).to_contain_text("开通存管账户")
        expect(self.page.locator(".order")).to_contain_text(fullname)
        self.shot("bank-open-account")
        self.page.fill("#password", BANK_PASSWORD)
        self.page.fill("#passwordConfirm", BANK_PASSWORD)
        self.page.click("button[value=confirm]")
        self.page.wait_for_url("**/#/callback?**")
        expect(self.result("ok")).to_contain_text("存管账户已开通")

    def result(self, state: str):
        """The callback page once the platform has the final result (``ok`` or ``failed``)."""
        view = self.page.locator(f"#view-result[data-state={state}]")
        expect(self.page.locator("#result-balance")).to_be_visible(timeout=NOTIFIED)
        expect(view).to_be_visible()
        return view

    def home(self) -> None:
        self.page.click("nav a[href='#/']")
        expect(self.page.locator("#view-home")).to_be_visible()


def test_register_open_recharge_withdraw_cancel_and_records(stack, page, chromium, shots):
    frontend = stack.url("user_center")
    walk = Walk(page, shots)
    mobile = new_mobile()

    page.goto(frontend + "/")
    expect(page.locator("#view-auth")).to_be_visible()
    walk.shot("login-and-register")

    # Register: a malformed mobile, then a password ending in a space, are caught before anything is sent.
    page.fill("#register-form [name=mobile]", "12345")
    page.fill("#register-form [name=password]", LOGIN_PASSWORD)
    page.click("#register-form button[type=submit]")
    expect(page.locator("#register-form .field-error")).to_contain_text("11 位手机号")
    walk.shot("register-validation")
    page.fill("#register-form [name=mobile]", mobile)
    page.fill("#register-form [name=password]", LOGIN_PASSWORD + " ")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#register-form .field-error")).to_contain_text("首尾不能是空格")
    page.fill("#register-form [name=password]", LOGIN_PASSWORD)
    page.fill("#register-form [name=username]", "小王")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#p-status")).to_have_text("未开通")
    expect(page.locator("#p-balance")).to_have_text("¥0.00")
    expect(page.locator("#open-form")).to_be_visible()
    walk.shot("registered-home")

    # Log out, a wrong password (401), the right one with a space after it (sent as typed: 401), then in.
    page.click("#logout")
    walk.log_in(mobile, "not-the-password")
    expect(walk.message()).to_contain_text("手机号或密码错误")
    walk.shot("login-401")
    walk.log_in(mobile, LOGIN_PASSWORD + " ")
    expect(walk.message()).to_contain_text("手机号或密码错误")
    walk.log_in(mobile, LOGIN_PASSWORD)
    expect(page.locator("#p-mobile")).to_have_text(mobile)

    # A second tab of the same user, still showing the open-account form later.
    stale = Walk(chromium.new_context(viewport=page.viewport_size).new_page(), shots)
    stale.page.goto(frontend + "/")
    stale.log_in(mobile, LOGIN_PASSWORD)
    expect(stale.page.locator("#open-form")).to_be_visible()

    # Open the depository account: the bank asks for the transaction password twice.
    page.fill("#open-form [name=fullname]", "王小明")
    page.fill("#open-form [name=idNumber]", "11010119900307777X")
    page.select_option("#open-form [name=bankCode]", "ICBK")
    page.fill("#open-form [name=cardNumber]", "6222020200112233445")
    page.fill("#open-form [name=mobile]", mobile)
    walk.go_to_bank("#open-form")
    expect(page.locator("h1")).to_contain_text("开通存管账户")
    expect(page.locator(".order")).to_contain_text("王小明")
    walk.shot("bank-open-account")
    page.fill("#password", BANK_PASSWORD)
    page.fill("#passwordConfirm", BANK_PASSWORD + "9")
    page.click("button[value=confirm]")
    expect(page.locator(".error")).to_contain_text("the two passwords differ")
    walk.shot("bank-passwords-differ")
    page.fill("#password", BANK_PASSWORD)
    page.fill("#passwordConfirm", BANK_PASSWORD)
    page.click("button[value=confirm]")
    page.wait_for_url("**/#/callback?**")
    expect(page.locator("#result-code")).to_have_text("00000")
    result = walk.result("ok")
    expect(result).to_contain_text("存管账户已开通")
    walk.shot("callback-account-opened")

    walk.home()
    expect(page.locator("#p-status")).to_have_text("已开通")
    expect(page.locator("#p-card")).to_contain_text("中国工商银行")
    expect(page.locator("#p-card")).to_contain_text("6222***********3445")
    expect(page.locator("#recharge-form")).to_be_visible()
    walk.shot("home-account-opened")

    # The stale tab tries to open the account again: 409, explained.
    stale.page.fill("#open-form [name=fullname]", "王小明")
    stale.page.fill("#open-form [name=idNumber]", "11010119900307777X")
    stale.page.fill("#open-form [name=cardNumber]", "6222020200112233445")
    stale.page.fill("#open-form [name=mobile]", mobile)
    stale.page.click("#open-form button[type=submit]")
    expect(stale.message()).to_contain_text("存管账户已开通，无需重复开户")
    expect(stale.page.locator("#p-status")).to_have_text("已开通")  # the stale page refreshed itself
    stale.shot("second-tab-already-opened-409")
    stale.page.context.close()

    # Recharge ¥100.00: a bad amount is refused in the page, a wrong bank password at the bank.
    page.fill("#recharge-form [name=amount]", "1.234")
    page.click("#recharge-form button[type=submit]")
    expect(page.locator("#recharge-form .field-error")).to_contain_text("最多两位小数")
    page.fill("#recharge-form [name=amount]", "100.00")
    walk.go_to_bank("#recharge-form")
    expect(page.locator(".amount")).to_have_text("¥100.00")
    walk.shot("bank-recharge")
    walk.confirm_at_bank("000000")
    expect(page.locator(".error")).to_contain_text("wrong transaction password")
    walk.shot("bank-wrong-password")
    walk.confirm_at_bank()
    page.wait_for_url("**/#/callback?**")
    result = walk.result("ok")
    expect(result).to_contain_text("充值成功，¥100.00 已到账")
    expect(page.locator("#result-balance")).to_have_text("¥100.00")
    walk.shot("callback-recharged")

    # A forged "success" link while a recharge waits at the bank: the page waits for the platform.
    walk.home()
    page.fill("#recharge-form [name=amount]", "5.00")
    walk.go_to_bank("#recharge-form")
    page.goto(frontend + "/#/callback?code=00000&msg=" + quote("充值成功，¥5.00 已到账"))
    expect(page.locator("#result-headline")).to_have_text("正在查询平台上这笔业务的状态…")
    expect(page.locator("#result-progress")).to_contain_text("正在等待银行通知平台")
    page.wait_for_timeout(2500)  # the record stays pending: nothing is announced
    expect(page.locator("#view-result[data-state=waiting]")).to_be_visible()
    expect(page.locator("#view-result")).not_to_contain_text("已到账")
    walk.shot("callback-forged-success-waits")

    # Withdraw more than the balance: 422, nothing sent to the bank.
    walk.home()
    page.fill("#withdraw-form [name=amount]", "500.00")
    page.click("#withdraw-form button[type=submit]")
    expect(walk.message()).to_contain_text("余额不足")
    assert "#/" in page.url and "/gateway" not in page.url
    walk.shot("withdraw-insufficient-422")

    # Withdraw ¥30.25 with the ¥1.50 commission shown at the bank and on return.
    page.fill("#withdraw-form [name=amount]", "30.25")
    walk.go_to_bank("#withdraw-form")
    expect(page.locator(".order")).to_contain_text("¥" + COMMISSION)
    walk.shot("bank-withdraw")
    walk.confirm_at_bank()
    page.wait_for_url("**/#/callback?**")
    result = walk.result("ok")
    expect(result).to_contain_text("提现成功，¥30.25 已转入银行卡")
    expect(result).to_contain_text("¥" + COMMISSION)
    expect(page.locator("#result-balance")).to_have_text("¥68.25")  # 100.00 - 30.25 - 1.50
    walk.shot("callback-withdrawn")

    # A withdraw cancelled at the bank fails, and its hold comes back.
    walk.home()
    expect(page.locator("#p-balance")).to_have_text("¥68.25")
    page.fill("#withdraw-form [name=amount]", "10.00")
    walk.go_to_bank("#withdraw-form")
    page.click("button[value=cancel]")
    page.wait_for_url("**/#/callback?**")
    expect(page.locator("#result-code")).to_have_text("20003")
    result = walk.result("failed")
    expect(result).to_contain_text("您在银行页面取消了本次操作")
    expect(result).to_contain_text("提现未成功，冻结的 ¥11.50 已退回余额")
    expect(page.locator("#result-balance")).to_have_text("¥68.25")
    walk.shot("callback-withdraw-cancelled")

    # Both record lists, newest first, with status and commission.
    page.click("nav a[href='#/records']")
    recharges = page.locator("#recharge-rows tr")
    withdraws = page.locator("#withdraw-rows tr")
    expect(recharges).to_have_count(2)
    expect(recharges.nth(0)).to_contain_text("5.00")  # the one left at the bank
    expect(recharges.nth(0)).to_contain_text("处理中")
    expect(recharges.nth(1)).to_contain_text("100.00")
    expect(recharges.nth(1)).to_contain_text("成功")
    expect(withdraws).to_have_count(2)
    expect(withdraws.nth(0)).to_contain_text("10.00")
    expect(withdraws.nth(0)).to_contain_text("失败")
    expect(withdraws.nth(1)).to_contain_text("30.25")
    expect(withdraws.nth(1)).to_contain_text("成功")
    expect(withdraws.nth(1)).to_contain_text(COMMISSION)
    expect(page.locator("#withdraw-page")).to_contain_text("共 2 条")
    walk.shot("records")

    walk.home()
    expect(page.locator("#p-balance")).to_have_text("¥68.25")
    walk.shot("home-final-balance")
    page.click("#logout")
    expect(page.locator("#view-auth")).to_be_visible()
    expect(walk.message()).to_contain_text("已退出登录")


def test_huifu_page_callbacks_say_what_the_bank_reported_and_claim_nothing(stack, page, shots):
    sandbox = stack.url("bank_sandbox")
    frontend = stack.url("user_center")
    openid = "wx" + uuid.uuid4().hex[:20]
    registered = requests.post(f"{sandbox}/huifu/register", json={"usrId": openid, "usrName": "李四"}, timeout=10)
    assert registered.status_code == 200, registered.text
    page.goto(registered.json()["pageCallbackUrl"])  # bank-callback verifies, then 302 to the frontend
    page.wait_for_url(f"{frontend}/#/BankUserRegisterCallback?**")
    view = page.locator("#view-result[data-state=reported]")
    expect(view).to_contain_text("汇付开户")
    expect(view).to_contain_text("以银行的到账通知为准")
    expect(page.locator("#result-code")).to_have_text("000")
    expect(page.locator("#result-meaning")).to_have_text("处理成功")
    shots(page, "huifu-register-callback")

    declined = requests.post(f"{sandbox}/huifu/netsave", json={
        "usrCustId": registered.json()["usrCustId"], "amount": "88.00", "outcome": "fail"}, timeout=10)
    assert declined.status_code == 200, declined.text
    page.goto(declined.json()["pageCallbackUrl"])
    page.wait_for_url(f"{frontend}/#/NetSaveCallback?**")
    expect(page.locator("#view-result[data-state=reported]")).to_contain_text("汇付充值")
    expect(page.locator("#result-code")).to_have_text(declined.json()["respCode"])
    expect(page.locator("#result-meaning")).to_have_text("未成功")
    shots(page, "huifu-netsave-callback-failed")


MARKUP = '<img src=x onerror="window.owned=1">'


def test_a_forged_result_link_announces_nothing_and_runs_nothing(stack, page, shots):
    """Anyone can write a link to the result routes: no success from its parameters, none of its text, no markup."""
    frontend = stack.url("user_center")
    page.goto(f"{frontend}/#/NetSaveCallback?RespCode=000&RespDesc=" + quote("充值成功，¥100,000.00 已到账" + MARKUP))
    view = page.locator("#view-result[data-state=reported]")
    expect(view).to_contain_text("余额以银行的到账通知为准")
    expect(view).not_to_contain_text("已到账")
    shots(page, "forged-huifu-link")

    page.goto(f"{frontend}/#/callback?code=00000&msg=" + quote("提现成功" + MARKUP))  # no request of this tab
    expect(page.locator("#result-headline")).to_have_text("无法确定是哪一笔业务，请在交易记录中查看结果。")
    expect(page.locator("#view-result[data-state=reported]")).not_to_contain_text("提现成功")

    page.goto(f"{frontend}/#/callback?code=" + quote(MARKUP))
    expect(page.locator("#result-code")).to_have_text("（格式无效）")
    page.goto(f"{frontend}/?code=constructor#/callback")  # a name every JavaScript object has
    expect(page.locator("#result-meaning")).to_have_text("银行未完成本次操作")
    page.goto(f"{frontend}/#/__proto__?RespCode=000")
    expect(page.locator("#view-auth")).to_be_visible()

    assert page.evaluate("window.owned") is None
    assert page.locator("img").count() == 0


def test_no_site_can_frame_the_app(stack, page):
    frontend = stack.url("user_center")
    for path in ("/", "/assets/index.html"):
        page.set_content(f'<iframe id="framed" src="{frontend}{path}"></iframe>')
        page.wait_for_timeout(1000)
        framed = page.frame_locator("#framed")
        expect(framed.locator("#view-auth")).to_have_count(0)


def test_rate_limit_and_network_failures_are_explained(stack, page, chromium, shots):
    """Too many wrong passwords: user-center's 429 with Retry-After, yet the owner's own browser still gets in;
    then a server that cannot be reached."""
    frontend = stack.url("user_center")
    mobile = new_mobile()
    assert requests.post(f"{frontend}/consumers", json={"mobile": mobile, "password": LOGIN_PASSWORD},
                         timeout=10).status_code == 201
    owner = Walk(chromium.new_context(viewport=page.viewport_size).new_page(), shots)
    owner.page.goto(frontend + "/")
    owner.log_in(mobile, LOGIN_PASSWORD)  # the owner's browser logged in before: it holds the device cookie
    expect(owner.page.locator("#p-mobile")).to_have_text(mobile)
    owner.page.click("#logout")
    page.goto(frontend + "/")
    walk = Walk(page, shots)
    for _ in range(LOGIN_FAILURES_ALLOWED):  # each submit clears the message before its call
        walk.log_in(mobile, "not-the-password")
        expect(walk.message()).to_contain_text("手机号或密码错误")
    walk.log_in(mobile, LOGIN_PASSWORD)  # even the right password, while the mobile is locked
    expect(walk.message()).to_contain_text("操作过于频繁")
    expect(walk.message()).to_contain_text(re.compile(r"请 \d+ (秒|分钟)后再试"))
    expect(walk.message()).to_contain_text("HTTP 429")
    expect(page.locator("#view-auth")).to_be_visible()
    shots(page, "login-429")
    owner.log_in(mobile, LOGIN_PASSWORD)  # a stranger's guesses do not lock the owner's browser out
    expect(owner.message()).to_contain_text("登录成功")
    expect(owner.page.locator("#view-home")).to_be_visible()
    owner.page.context.close()

    page.route("**/tokens", lambda route: route.abort("connectionrefused"))
    page.click("#login-form button[type=submit]")
    expect(walk.message()).to_contain_text("无法连接服务器")
    shots(page, "network-error")

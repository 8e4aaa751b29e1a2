"""A whole loan walked through partner-sandbox's controls, with lending, its workers and the sandbox as real
processes (the agent's transaction services and user-center's additions are the stand-ins of
tests/lending/standins.py): push, approval, card, confirmation before and after the account is opened
through the one-time link, disbursement, one period repaid, early settlement; every callback at the
partner, and the ledger equal to the bank for every user involved. The page shows it all."""
import pytest
import requests

from tests.lending.conftest import PLATFORM_NO, agree, as_env, new_person, stop_together
from tests.support.processes import WebService, Worker
from tests.support.waiting import wait_for

WORKERS = ("outbox_relay", "credit_engine", "credit_data_pull", "order_parse", "credit_apply", "credit_result",
           "depository_state_check", "audit_result", "disburse", "loan_result", "repay_result", "ledger_mirror",
           "partner_callbacks")


@pytest.fixture(scope="module")
def lending(lending_infra, lending_port, settings, sandbox, tmp_path_factory):
    """lending under gunicorn on the port the sandbox calls, and all its workers."""
    env = lending_infra.service_env("lending", **as_env(settings))
    log_dir = tmp_path_factory.mktemp("lending")
    web = WebService("lending", env, log_dir, port=lending_port).start()
    workers = [Worker(f"lending.workers.{name}", env, log_dir).start() for name in WORKERS]
    yield web
    stop_together([*workers, web])


def sim(sandbox, method: str, path: str, **kwargs) -> dict:
    response = requests.request(method, f"{sandbox.url}{path}", timeout=30, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def view(sandbox, order_no: str) -> dict:
    return sim(sandbox, "GET", f"/sim/orders/{order_no}")


def events(sandbox, order_no: str) -> list[str]:
    return [callback["event"] for callback in view(sandbox, order_no)["callbacks"]]


def test_a_loan_walked_through_the_partner_sandbox(lending, sandbox, users, bank, ledger, funder, db_lending):
    total = bank.total()
    person = new_person(name="李四")
    pushed = sim(sandbox, "POST", "/sim/orders", json={**person, "loanAmount": 1_200_000, "loanTerm": 6})
    order_no = pushed["orderNo"]
    assert pushed["status"] == 0 and pushed["lending"]["code"] == 0
    wait_for(lambda: view(sandbox, order_no)["queries"]["audit/result"]["data"]["status"] == 6001, timeout=60,
             what="approval")
    assert sim(sandbox, "POST", f"/sim/orders/{order_no}/bind-card", json={})["data"] == {"bound": True,
                                                                                        "isDefault": True}
    first = sim(sandbox, "POST", f"/sim/orders/{order_no}/confirm")
    assert first["data"]["status"] == "OPEN_ACCOUNT"
    assert requests.get(first["data"]["openAccountUrl"], timeout=10).status_code == 200  # the borrower's browser
    second = sim(sandbox, "POST", f"/sim/orders/{order_no}/confirm")
    assert second["data"]["status"] == "ACCEPTED" and second["data"]["borrowNo"]
    wait_for(lambda: view(sandbox, order_no)["queries"]["loan/result"]["data"]["status"] == 7001, timeout=60,
             what="disbursement")
    wait_for(lambda: "loan.succeeded" in events(sandbox, order_no), timeout=30, what="loan.succeeded")
    borrower = users.user_no_of(person["mobile"])
    assert bank.balance(borrower).available == 1_176_000
    bank.open_account(borrower, 100_000)  # a recharge for the interest
    ledger.add(borrower, "RCH-" + order_no, 100_000)

    one = sim(sandbox, "POST", f"/sim/orders/{order_no}/repay", json={"periods": [1]})
    assert one["repay"]["data"]["status"] == "PROCESSING"
    wait_for(lambda: events(sandbox, order_no).count("repay.result") == 1, timeout=30, what="period 1 repaid")
    plan = view(sandbox, order_no)["queries"]["repay/plan"]["data"]["plans"]
    assert plan[0]["status"] == 1 and all(line["status"] == 0 for line in plan[1:])

    rest = sim(sandbox, "POST", f"/sim/orders/{order_no}/repay", json={"periods": "all"})
    assert rest["trial"]["data"]["principal"] == 1_200_000 - plan[0]["principal"]
    wait_for(lambda: events(sandbox, order_no).count("repay.result") == 2, timeout=30, what="settled early")
    final = view(sandbox, order_no)
    assert all(line["status"] == 1 for line in final["queries"]["repay/plan"]["data"]["plans"])
    assert [c["biz"]["status"] for c in final["callbacks"] if c["event"] == "repay.result"] == ["SUCCESS", "SUCCESS"]
    assert db_lending.execute("select status from borrows where order_no = %s", (order_no,)).fetchone()["status"] == 40
    wait_for(lambda: agree(bank, ledger, [borrower, funder, PLATFORM_NO], db_lending) == {}, timeout=20,
             what="ledger = bank for the borrower, the funder and the platform")
    assert bank.total() == total + 100_000  # only the recharge came from outside

    page = requests.get(f"{sandbox.url}/", timeout=10)
    assert page.status_code == 200 and order_no in page.text and "repay.result" in page.text
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]

"""The operator commands, run as ``python -m lending``: refusing a borrow, callbacks, postings, anomalies,
migrate, and the development keys."""
from shared.contract import CONFIRM_LOAN, RESP_AMOUNTS_DIFFER
from tests.lending.conftest import borrow_of, borrow_with_open_account, disburse, disbursed_loan
from tests.support.processes import run_module


def test_operator_commands(deps, partner, users, bank, funder, db, lending_env, sandbox):
    order_no, _ = disbursed_loan(deps, partner, users)
    refused = run_module("lending", "borrows", "reject", borrow_of(db, order_no)["borrow_no"], env=lending_env)
    assert refused.returncode == 1 and "only 10, 20 and 31" in refused.stdout
    failing, _ = borrow_with_open_account(deps, partner, users)
    bank.faults.refuse_next(CONFIRM_LOAN, RESP_AMOUNTS_DIFFER, borrow_of(db, failing)["project_no"])
    disburse(deps)
    assert borrow_of(db, failing)["status"] == 31
    rejected = run_module("lending", "borrows", "reject", failing, "--reason", "the funder withdrew", env=lending_env)
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert borrow_of(db, failing)["status"] == 27 and bank.balance(funder).frozen == 0
    assert partner.ok("loan/result", {"orderNo": failing}) == {"status": 7003, "reason": "the funder withdrew"}
    listed = run_module("lending", "callbacks", "list", env=lending_env)
    assert listed.returncode == 0
    retried = run_module("lending", "callbacks", "retry", env=lending_env)
    assert retried.returncode == 0 and "due now" in retried.stdout
    assert run_module("lending", "anomalies", "list", env=lending_env).returncode == 0
    requeued = run_module("lending", "postings", "retry", env=lending_env)
    assert requeued.returncode == 0 and "queued again" in requeued.stdout
    assert run_module("lending", "migrate", env=lending_env).returncode == 0


def test_keys_writes_the_partners_secret_once(tmp_path, lending_env):
    env = {**lending_env, "KEYS_DIR": str(tmp_path / "keys")}
    made = run_module("lending", "keys", env=env)
    assert made.returncode == 0 and "rongshu_secret" in made.stdout
    secret = (tmp_path / "keys" / "rongshu_secret").read_text()
    again = run_module("lending", "keys", env=env)
    assert "already there" in again.stdout and (tmp_path / "keys" / "rongshu_secret").read_text() == secret

"""The money rules are PostgreSQL's own: whatever code writes, the database refuses a balance below zero,
a frozen balance other than what its freezes hold (a freeze deleted, the freezes truncated or a tally
written by hand included), a freeze holding more than its amount or less than it while frozen, a project
raising more than its amount, a platform account below zero."""
import psycopg
import pytest

from tests.bank_sandbox.conftest import PASSWORD

FREEZE = "USER_AUTO_PRE_TRANSACTION"


def _confirm(client, platform, service, payload):
    assert client.post("/sandbox/confirm", json=platform.confirm_body(service, payload, password=PASSWORD)).json[
        "status"] == 1


def _service(client, platform, service, payload):
    answer = client.post("/service", data=platform.gateway_params(service, payload))
    assert answer.status_code == 200 and platform.read_answer(answer.json)["respCode"] == "00000", answer.json


@pytest.fixture
def frozen(client, platform):
    """A lender with 100.00, 30.00 of it frozen as a TENDER of a borrower's project of 1000.00."""
    borrower, lender = platform.user_no(), platform.user_no()
    for user_no in (borrower, lender):
        _confirm(client, platform, "PERSONAL_REGISTER", platform.register(user_no))
    _confirm(client, platform, "RECHARGE", platform.recharge(lender, "100.00"))
    project = platform.project(borrower, "1000.00")
    _service(client, platform, "CREATE_PROJECT", project)
    tender = platform.freeze(lender, "30.00", "TENDER", project["projectNo"])
    _service(client, platform, FREEZE, tender)
    return {"lender": lender, "borrower": borrower, "project": project["projectNo"], "tender": tender["requestNo"]}


BAD_WRITES = {
    "an available balance below zero": ["update bank_users set bank_balance = -1 where user_no = %(lender)s"],
    "a frozen balance below zero": ["update bank_users set frozen_balance = -1 where user_no = %(lender)s"],
    "a frozen balance its freezes do not hold": [
        "update bank_users set frozen_balance = frozen_balance + 1, bank_balance = bank_balance - 1"
        " where user_no = %(lender)s"],
    "a freeze released without its balance": [
        "update pre_transactions set state = 'CANCELLED', remaining = 0, settled_by = request_no"
        " where request_no = %(tender)s"],
    "a freeze holding more than its amount": [
        "update pre_transactions set remaining = amount + 1 where request_no = %(tender)s"],
    "a freeze holding less than zero": ["update pre_transactions set remaining = -1 where request_no = %(tender)s"],
    "a frozen freeze holding part of its amount": [
        "update bank_users set frozen_balance = frozen_balance - 1 where user_no = %(lender)s",
        "update projects set raising = raising - 1 where project_no = %(project)s",
        "update pre_transactions set remaining = remaining - 1 where request_no = %(tender)s"],
    "a used freeze still holding money": [
        "update pre_transactions set state = 'USED', settled_by = request_no where request_no = %(tender)s"],
    "a settled freeze without what settled it": [
        "update bank_users set frozen_balance = 0 where user_no = %(lender)s",
        "update projects set raising = 0 where project_no = %(project)s",
        "update pre_transactions set state = 'CANCELLED', remaining = 0 where request_no = %(tender)s"],
    "a freeze deleted": ["delete from pre_transactions where request_no = %(tender)s"],
    "the freezes truncated": ["truncate pre_transactions"],
    "a user's tally written by hand": [
        "update bank_users set held = held + 1, frozen_balance = frozen_balance + 1, bank_balance = bank_balance - 1"
        " where user_no = %(lender)s"],
    "a project's tally written by hand": [
        "update projects set held = held + 1, raising = raising + 1 where project_no = %(project)s"],
    "a project raising more than its amount": [
        "update projects set loaned = project_amount where project_no = %(project)s"],
    "a project raising what its tenders do not hold": [
        "update projects set raising = raising + 1 where project_no = %(project)s"],
    "a platform account below zero": [
        "insert into platform_accounts (platform_no, balance) values ('OTHERP2P', -1)"],
    "a statement line moving nothing": [
        "insert into bank_transactions (request_no, platform_no, service_name, user_no, amount, card_balance_after,"
        " bank_balance_after) values (%(tender)s, 'WANXINP2P', 'CANCEL_PRE_TRANSACTION', %(lender)s, 0, 0, 0)"],
    "a gateway request without its form token": [
        "insert into bank_requests (request_no, service_name, platform_no, user_no, payload)"
        " values ('REQ_' || md5(random()::text), 'RECHARGE', 'WANXINP2P', %(lender)s, '{}')"],
    "a transaction service's request with a form": [
        "insert into bank_requests (request_no, service_name, platform_no, user_no, payload, form_token)"
        " values ('REQ_' || md5(random()::text), 'USER_AUTO_PRE_TRANSACTION', 'WANXINP2P', %(lender)s, '{}', 't')"],
}


def _lender(pool, frozen) -> dict:
    with pool.connection() as conn:
        return conn.execute("select bank_balance, frozen_balance from bank_users where user_no = %s",
                            (frozen["lender"],)).fetchone()


@pytest.mark.parametrize("case", BAD_WRITES)
def test_the_database_refuses(pool, frozen, case):
    with pytest.raises((psycopg.errors.CheckViolation, psycopg.errors.UniqueViolation)):
        with pool.connection() as conn:
            with conn.transaction():  # the first statement: a transaction of its own, checked at its commit
                for statement in BAD_WRITES[case]:
                    conn.execute(statement, frozen)
    assert _lender(pool, frozen) == {"bank_balance": 7000, "frozen_balance": 3000}


def test_a_movement_written_whole_is_accepted(pool, frozen):
    """The same rows changed together, as a cancel does, pass every rule (the refusals above are the rules')."""
    with pool.connection() as conn:
        with conn.transaction():
            conn.execute("update bank_users set frozen_balance = 0, bank_balance = 10000 where user_no = %(lender)s",
                         frozen)
            conn.execute("update projects set raising = 0 where project_no = %(project)s", frozen)
            conn.execute("update pre_transactions set state = 'CANCELLED', remaining = 0, settled_by = request_no"
                         " where request_no = %(tender)s", frozen)
    assert _lender(pool, frozen) == {"bank_balance": 10000, "frozen_balance": 0}


def test_a_freezes_key_check_does_not_wait_for_a_locked_project(pool, frozen):
    """A confirmation holds its project's lock while it waits for users; a REPAYMENT freeze holding the
    borrower must still insert its freeze (a foreign-key check on the project), or the two deadlock."""
    from bank_sandbox.repository import projects

    with pool.connection() as confirming, pool.connection() as freezing:
        with confirming.transaction():
            assert projects.lock(confirming, frozen["project"]) is not None
            with freezing.transaction():
                freezing.execute("set local lock_timeout = '2s'")
                freezing.execute("update bank_users set bank_balance = bank_balance where user_no = %(borrower)s",
                                 frozen)
                freezing.execute("insert into bank_requests (request_no, service_name, platform_no, user_no, payload)"
                                 " values ('REQ_KEYCHECK', 'USER_AUTO_PRE_TRANSACTION', 'WANXINP2P', %(borrower)s,"
                                 " '{}')", frozen)
                freezing.execute("insert into pre_transactions (request_no, project_no, user_no, biz_type, amount,"
                                 " remaining) values ('REQ_KEYCHECK', %(project)s, %(borrower)s, 'REPAYMENT', 1, 1)",
                                 frozen)  # no lock wait (lock_timeout would raise)
                raise psycopg.Rollback()  # undone: only the lock mattered
            raise psycopg.Rollback()

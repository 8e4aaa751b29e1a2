"""PostgreSQL itself refuses rows that would break the ledger, whatever the application does."""
import psycopg
import pytest

from tests.beanpay_ledger.conftest import new_id


@pytest.fixture
def ids(api, db):
    """(account_id, package_id) of a fresh account holding 1,000 fen with credit 100 and a deduct D of 300."""
    eid = new_id()
    api.post("/account/create", {"eid": eid, "name": "n", "credit": 100})
    api.post("/account/balance/add", {"eid": eid, "trade_no": "A", "amount": 1000})
    api.post("/account/balance/deduct", {"eid": eid, "trade_no": "D", "amount": 300})
    api.post("/package/create", {"eid": eid, "spkg_id": "p", "name": "n", "total": 3, "daily": 2,
                                 "expires": "20991231"})
    account_id = db.execute("select account_id from account where eid = %s", (eid,)).fetchone()[0]
    package_id = db.execute("select package_id from package where account_id = %s", (account_id,)).fetchone()[0]
    return account_id, package_id


def _record(account_id, change_type, amount, trade_no="raw", balance=None, extra=""):
    """A raw record insert; by default it carries the right balance after it, so that a refusal comes
    from the rule the case is about (``extra``: more columns and values, e.g. ``("refunded", 5)``)."""
    if balance is None:
        balance = f"(select balance from account where account_id = {account_id}) + ({amount})"
    columns, values = (f", {extra[0]}", f", {extra[1]}") if extra else ("", "")
    return (f"insert into account_record (account_id, trade_no, change_type, amount, balance{columns})"
            f" values ({account_id}, '{trade_no}', {change_type}, {amount}, {balance}{values})")


REFUSED = {
    "direct balance update": lambda a, p: f"update account set balance = balance + 5 where account_id = {a}",
    "opening with a balance": lambda a, p: "insert into account (eid, name, balance) values ('rich', 'n', 5)",
    "add with a negative amount": lambda a, p: _record(a, 1, -5),
    "deduct with a positive amount": lambda a, p: _record(a, 2, 5),
    "zero amount": lambda a, p: _record(a, 1, 0),
    "refund above its deduct": lambda a, p: _record(a, 3, 301, "D"),
    "refund without a deduct": lambda a, p: _record(a, 3, 1, "none"),
    "duplicate trade": lambda a, p: _record(a, 1, 1000, "A"),
    "overdraft beyond credit": lambda a, p: _record(a, 2, -801),
    "a balance after that is not the running balance": lambda a, p: _record(a, 1, 5, balance=0),
    "a statement whose second balance skips": lambda a, p: (
        "insert into account_record (account_id, trade_no, change_type, amount, balance) select"
        f" {a}, t, 1, 5, balance + 5 from account, unnest(array['s1', 's2']) t where account_id = {a}"),
    "a new record dated in the past": lambda a, p: _record(a, 1, 5, extra=("create_time", "now() - interval '1 day'")),
    "a new deduct claiming a refund": lambda a, p: _record(a, 2, -5, extra=("refunded", 5)),
    "a record of no account": lambda a, p: _record(-1, 1, 5, balance=5),
    "deleting an account": lambda a, p: f"delete from account where account_id = {a}",
    "truncating accounts": lambda a, p: "truncate account cascade",
    "deleting a record": lambda a, p: f"delete from account_record where account_id = {a}",
    "editing a record": lambda a, p: f"update account_record set amount = 1 where account_id = {a}",
    "raising refunded directly": lambda a, p: f"update account_record set refunded = 1 where account_id = {a}"
                                              " and change_type = 2",
    "truncating records": lambda a, p: "truncate account_record cascade",
    "negative credit": lambda a, p: f"update account set credit = -1 where account_id = {a}",
    "direct package capacity update": lambda a, p: f"update package set total_remain = 99 where package_id = {p}",
    "package below zero": lambda a, p: "insert into package_record (package_id, trade_no, change_type, num, remain)"
                                       f" values ({p}, 'x', 1, -4, 0)",
    "package deduct above remain": lambda a, p: "insert into package_record (package_id, trade_no, change_type,"
                                                f" num, remain) values ({p}, 'x', 2, -4, 0)",
    "package deduct above daily": lambda a, p: "insert into package_record (package_id, trade_no, change_type,"
                                               f" num, remain) values ({p}, 'x', 2, -3, 0)",
    "deleting a package record": lambda a, p: f"delete from package_record where package_id = {p}",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_database_refuses(ids, db, statement):
    before = db.execute("select balance, (select sum(amount) from account_record where account_id = %s),"
                        " (select total_remain from package where package_id = %s) from account where account_id = %s",
                        (ids[0], ids[1], ids[0])).fetchone()
    with pytest.raises(psycopg.errors.IntegrityError):
        db.execute(statement(*ids))
    after = db.execute("select balance, (select sum(amount) from account_record where account_id = %s),"
                       " (select total_remain from package where package_id = %s) from account where account_id = %s",
                       (ids[0], ids[1], ids[0])).fetchone()
    assert before == after == (700, 700, 3)


def test_database_accepts_a_valid_raw_record_and_keeps_balance_in_step(ids, db):
    db.execute(_record(ids[0], 3, 300, "D"))
    assert db.execute("select balance from account where account_id = %s", (ids[0],)).fetchone()[0] == 1000
    assert db.execute("select refunded from account_record where account_id = %s and change_type = 2",
                      (ids[0],)).fetchone()[0] == 300


def test_database_accepts_a_statement_of_records_carrying_their_running_balances(ids, db):
    db.execute("insert into account_record (account_id, trade_no, change_type, amount, balance)"
               " select %s, t, c, a, balance + s from account,"
               " unnest(array['m1', 'm2', 'm2'], array[1, 2, 3]::int2[], array[50, -30, 30], array[50, 20, 50])"
               " as r(t, c, a, s) where account_id = %s", (ids[0], ids[0]))
    assert db.execute("select balance, (select sum(amount) from account_record where account_id = %s)"
                      " from account where account_id = %s", (ids[0], ids[0])).fetchone() == (750, 750)


def test_database_refuses_records_of_a_locked_account(ids, db):
    db.execute("update account set status = 1 where account_id = %s", (ids[0],))
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
        db.execute(_record(ids[0], 1, 5))
    assert db.execute("select balance from account where account_id = %s", (ids[0],)).fetchone()[0] == 700

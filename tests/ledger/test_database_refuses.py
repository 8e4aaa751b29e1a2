"""PostgreSQL itself refuses rows that would break the ledger, whatever the application does."""
import psycopg
import pytest

from tests.ledger.conftest import new_id


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


def _record(account_id, change_type, amount, trade_no="raw"):
    return ("insert into account_record (account_id, trade_no, change_type, amount, balance)"
            f" values ({account_id}, '{trade_no}', {change_type}, {amount}, 0)")


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

"""PostgreSQL itself refuses what the state machines do not allow: any status change outside the
transition tables, rows that do not start at 0, deletions, a plan that does not cover its loan, a paid
period unpaid, a final call or repayment changed."""
import contextlib

import psycopg
import pytest

from tests.lending.conftest import borrow_of, disbursed_loan, push

ORDER = {0, 2, 10, 11, 12, 1, 4, 5}
ORDER_ALLOWED = {(0, 2), (2, 10), (10, 11), (11, 12), (11, 4), (12, 1), (12, 5)}
BORROW = {0, 10, 20, 13, 30, 40, 41, 27, 31}
BORROW_ALLOWED = {(0, 10), (10, 20), (10, 27), (20, 13), (20, 27), (13, 30), (13, 31), (31, 13), (31, 27), (30, 40),
                  (30, 41)}


def test_the_transition_tables_are_exactly_the_seeds(db):
    assert {(r["from_status"], r["to_status"]) for r in db.execute("select * from order_transitions")} == ORDER_ALLOWED
    borrow_table = {(r["from_status"], r["to_status"]) for r in db.execute("select * from borrow_transitions")}
    assert borrow_table == BORROW_ALLOWED


def _try(db, statement: str, *params) -> bool:
    """True when the statement is accepted (it is rolled back either way)."""
    try:
        with db.transaction():
            db.execute(statement, params)
            raise _Undo
    except _Undo:
        return True
    except psycopg.errors.CheckViolation:
        return False


class _Undo(Exception):
    pass


@contextlib.contextmanager
def _rolled_back(db):
    try:
        with db.transaction():
            yield
            raise _Undo
    except _Undo:
        pass


def test_every_order_transition_outside_the_table_is_refused(partner, db):
    """From every status (reached along allowed steps), every other status is tried by direct SQL."""
    paths = {0: [], 2: [2], 10: [2, 10], 11: [2, 10, 11], 12: [2, 10, 11, 12], 4: [2, 10, 11, 4],
             1: [2, 10, 11, 12, 1], 5: [2, 10, 11, 12, 5]}
    for state, path in paths.items():
        order_id = db.execute("select id from partner_orders where order_no = %s", (push(partner)[0],)).fetchone()["id"]
        for step in path:
            db.execute("update partner_orders set status = %s where id = %s", (step, order_id))
        for after in ORDER - {state}:
            assert _try(db, "update partner_orders set status = %s where id = %s", after, order_id) == (
                (state, after) in ORDER_ALLOWED), (state, after)


def test_every_borrow_transition_outside_the_table_is_refused(partner, db):
    """Borrows written by direct SQL, walked along allowed steps to every status, then every other status tried."""
    paths = {0: [], 10: [10], 20: [10, 20], 13: [10, 20, 13], 31: [10, 20, 13, 31], 30: [10, 20, 13, 30],
             40: [10, 20, 13, 30, 40], 41: [10, 20, 13, 30, 41], 27: [10, 27]}
    for state, path in paths.items():
        order_no = push(partner)[0]
        with _rolled_back(db):  # these borrows never reach the jobs
            _walk_borrow(db, order_no, state, path)


def _walk_borrow(db, order_no: str, state: int, path: list[int]) -> None:
    borrow_id = db.execute(
        "insert into borrows (borrow_no, order_id, order_no, user_no, amount, term, annual_rate, repayment_way,"
        " service_fee, project_no, loan_time, disbursed_on) select 'B-' || order_no, id, order_no, 'USR_X', 100000,"
        " 3, 0.18, 'FIXED_REPAYMENT', 2000, 'P-' || order_no, now(), current_date from partner_orders"
        " where order_no = %s returning id", (order_no,)).fetchone()["id"]
    for step in path:
        db.execute("update borrows set status = %s where id = %s", (step, borrow_id))
    for after in BORROW - {state}:
        assert _try(db, "update borrows set status = %s where id = %s", after, borrow_id) == (
            (state, after) in BORROW_ALLOWED), (state, after)


def test_rows_start_at_zero_and_are_never_deleted(partner, db):
    order_no = push(partner)[0]
    with pytest.raises(psycopg.errors.CheckViolation, match="must start at status 0"):
        db.execute("insert into partner_orders (order_no, status, loan_amount, loan_term, name, mobile, id_number,"
                   " mobile_md5, id_number_md5) values ('X-START', 12, 1, 1, 'n', '13800138000', '11010519900307001X',"
                   " 'a', 'b')")
    with pytest.raises(psycopg.errors.RestrictViolation):
        db.execute("delete from partner_orders where order_no = %s", (order_no,))


def test_a_plan_must_cover_its_loan_and_a_paid_period_stays_paid(deps, partner, users, db):
    order_no, _ = disbursed_loan(deps, partner, users)
    borrow_id = borrow_of(db, order_no)["id"]
    with pytest.raises(psycopg.errors.CheckViolation, match="covers"):
        with db.transaction():
            db.execute("update plans set principal = principal + 1 where borrow_id = %s and period = 1", (borrow_id,))
    db.execute("update plans set status = 1, paid_principal = principal, paid_at = now() where borrow_id = %s"
               " and period = 1", (borrow_id,))
    with pytest.raises(psycopg.errors.CheckViolation, match="paid already"):
        db.execute("update plans set status = 0, paid_principal = 0, paid_at = null where borrow_id = %s and"
                   " period = 1", (borrow_id,))


def test_a_settled_call_keeps_its_result(deps, partner, users, db):
    order_no, _ = disbursed_loan(deps, partner, users)
    call = db.execute("select request_no from depository_calls where borrow_id = %s and purpose = 'loan'",
                      (borrow_of(db, order_no)["id"],)).fetchone()
    with pytest.raises(psycopg.errors.CheckViolation, match="final already"):
        db.execute("update depository_calls set status = 2 where request_no = %s", (call["request_no"],))
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("update depository_calls set status = 0 where request_no = %s", (call["request_no"],))

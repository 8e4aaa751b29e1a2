"""What the freezes hold is tallied by PostgreSQL on every change of a pre-transaction (migration
004_held_tallies.sql): a bank migrated from 003 starts with the tallies its freezes hold, and the check at
commit compares the frozen balance (the project's raising) with that tally."""
import shutil

import psycopg
import pytest

from bank_sandbox import MIGRATIONS_DIR
from shared.migrations import drop_database, migrate

# two users, a project of the borrower's, a live TENDER of the lender, a live REPAYMENT freeze of the
# borrower, a cancelled TENDER: as a bank running 003 holds them (its checks passed at this commit)
BOOKS_OF_003 = """
insert into bank_users (user_no, fullname, id_number, mobile, bank_code, card_number, role, password_hash,
                        card_balance, bank_balance, frozen_balance)
values ('UBORROWER', 'b', '1', '13800000001', 'ICBK', '1', 'B', 'x', 0, 1000, 500),
       ('ULENDER', 'l', '2', '13800000002', 'ICBK', '2', 'I', 'x', 0, 7000, 3000);
insert into bank_requests (request_no, service_name, platform_no, user_no, payload)
values ('REQ_PROJECT', 'CREATE_PROJECT', 'P', 'UBORROWER', '{}'), ('REQ_TENDER', 'USER_AUTO_PRE_TRANSACTION', 'P',
        'ULENDER', '{}'), ('REQ_REPAY', 'USER_AUTO_PRE_TRANSACTION', 'P', 'UBORROWER', '{}'),
       ('REQ_OLD', 'USER_AUTO_PRE_TRANSACTION', 'P', 'ULENDER', '{}'),
       ('REQ_CANCEL', 'CANCEL_PRE_TRANSACTION', 'P', 'ULENDER', '{}');
insert into projects (project_no, request_no, user_no, project_amount, project_name, project_period, annual_rate,
                      repayment_way, raising)
values ('PRJ1', 'REQ_PROJECT', 'UBORROWER', 100000, 'p', 6, 0.1, 'FIXED_REPAYMENT', 3000);
insert into pre_transactions (request_no, project_no, user_no, biz_type, amount, remaining, state, settled_by)
values ('REQ_TENDER', 'PRJ1', 'ULENDER', 'TENDER', 3000, 3000, 'FROZEN', null),
       ('REQ_REPAY', 'PRJ1', 'UBORROWER', 'REPAYMENT', 500, 500, 'FROZEN', null),
       ('REQ_OLD', 'PRJ1', 'ULENDER', 'TENDER', 2000, 0, 'CANCELLED', 'REQ_CANCEL');
"""


@pytest.fixture
def upgraded(infra, tmp_path):
    """A bank database migrated to 003 holding :data:`BOOKS_OF_003`, then migrated to the end."""
    url = infra.database_url("bank_sandbox_upgrade")
    old = tmp_path / "migrations"
    old.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql"))[:3]:
        shutil.copy(path, old)
    assert migrate(url, old, sql_dir=tmp_path / "no-live-sql")[-1] == "003_lending"
    with psycopg.connect(url) as conn:
        conn.execute(BOOKS_OF_003)
    assert "004_held_tallies" in migrate(url, MIGRATIONS_DIR)
    yield url
    drop_database(url)


def _held(conn) -> dict:
    rows = conn.execute("select user_no as key, held from bank_users union all"
                        " select project_no, held from projects").fetchall()
    return dict(rows)


def test_an_upgraded_bank_starts_with_the_tallies_its_freezes_hold(upgraded):
    with psycopg.connect(upgraded, autocommit=True) as conn:
        assert _held(conn) == {"UBORROWER": 500, "ULENDER": 3000, "PRJ1": 3000}


def test_the_tallies_follow_a_cancel_and_the_check_holds_at_commit(upgraded):
    with psycopg.connect(upgraded, autocommit=True) as conn:
        with conn.transaction():  # a cancel written whole
            conn.execute("insert into bank_requests (request_no, service_name, platform_no, user_no, payload)"
                         " values ('REQ_CANCEL2', 'CANCEL_PRE_TRANSACTION', 'P', 'ULENDER', '{}')")
            conn.execute("update projects set raising = 0 where project_no = 'PRJ1'")
            conn.execute("update pre_transactions set state = 'CANCELLED', remaining = 0, settled_by = 'REQ_CANCEL2'"
                         " where request_no = 'REQ_TENDER'")
            conn.execute("update bank_users set frozen_balance = 0, bank_balance = 10000 where user_no = 'ULENDER'")
        assert _held(conn) == {"UBORROWER": 500, "ULENDER": 0, "PRJ1": 0}
        with pytest.raises(psycopg.errors.CheckViolation):
            with conn.transaction():  # the borrower's frozen balance moved without its freeze
                conn.execute("update bank_users set frozen_balance = 0, bank_balance = 1500"
                             " where user_no = 'UBORROWER'")
        assert _held(conn)["UBORROWER"] == 500

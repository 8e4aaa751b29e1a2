-- Wallet accounts and their records. The invariants live in PostgreSQL, not in Python (the functions and
-- triggers that keep them: sql/02_accounts.sql and sql/03_account_records.sql):
--   * balance = sum of the account's record amounts (a record insert is the only way to move it);
--   * balance + credit >= 0 (check constraint, evaluated under the account row lock);
--   * a trade_no is applied once per (account, change_type) (unique key);
--   * a refund never exceeds its deduct (deduct.refunded <= -deduct.amount, one refund per deduct);
--   * records are append-only (no delete, no update except the trigger-maintained "refunded").

create table account (
    account_id  bigserial primary key,
    eid         text        not null unique check (length(eid) between 1 and 64),
    name        text        not null check (length(name) <= 128),
    type        text        not null default '' check (length(type) <= 32),
    balance     bigint      not null default 0,
    credit      bigint      not null default 0 check (credit >= 0),
    status      smallint    not null default 0 check (status in (0, 1)),  -- 0 normal, 1 locked
    create_time timestamptz not null default now(),
    constraint account_balance_within_credit check (balance + credit >= 0)
);

create table account_record (
    record_id   bigserial primary key,
    account_id  bigint      not null references account (account_id),
    trade_no    text        not null check (length(trade_no) between 1 and 64),
    change_type smallint    not null check (change_type in (1, 2, 3)),  -- 1 add, 2 deduct, 3 refund
    amount      bigint      not null,
    balance     bigint      not null,
    refunded    bigint      not null default 0,
    create_time timestamptz not null default now(),
    constraint account_record_once unique (account_id, change_type, trade_no),
    constraint account_record_amount_sign check (
        (change_type = 2 and amount < 0) or (change_type in (1, 3) and amount > 0)),
    constraint account_record_refund_within_deduct check (
        refunded >= 0 and (refunded = 0 or (change_type = 2 and refunded <= -amount)))
);
create index account_record_by_account_time on account_record (account_id, record_id desc);

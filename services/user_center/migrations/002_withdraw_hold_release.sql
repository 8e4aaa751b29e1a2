-- Withdraw holds that must be given back (the request failed before it reached the bank). A row
-- is written before the refund is tried, so a refund that fails is retried by the sweep until
-- the ledger confirms it; released rows are kept for audit.
create table withdraw_hold_release (
    request_no      char(36) primary key references withdraw_record (request_no),
    user_no         char(36) not null,
    amount          bigint not null check (amount > 0),   -- fen: the withdraw's amount + commission
    reason          text not null,
    attempts        integer not null default 0,
    last_error      text,
    next_attempt_at timestamptz not null default now(),
    released_at     timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index withdraw_hold_release_due on withdraw_hold_release (next_attempt_at) where released_at is null;
-- the sweep looks for old pending withdraws that have no release row yet
create index withdraw_record_pending on withdraw_record (created_at) where callback_status = 0;

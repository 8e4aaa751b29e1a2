-- Trade numbers released before any deduct (sql/05_releases.sql): a release is final, so a deduct with a
-- released trade number is never applied. Keyed by eid, not account_id: a release is final even for an
-- account that does not exist yet. Append-only.

create table deduct_release (
    eid         text        not null check (length(eid) between 1 and 64),
    trade_no    text        not null check (length(trade_no) between 1 and 64),
    amount      bigint      not null check (amount > 0),   -- the hold that was released (fen)
    create_time timestamptz not null default now(),
    primary key (eid, trade_no)
);

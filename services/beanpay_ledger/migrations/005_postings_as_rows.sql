-- Functions and triggers live in sql/ from now on, each in one place, re-applied (create or replace) by
-- every migrate. This migration drops what they superseded in a database migrated before, and adds the
-- row types ledger_post_batch works on (sql/04_postings.sql) instead of one array per field.

drop function if exists ledger_post_batch(smallint[], text[], text[], bigint[]);

-- One posting, as ledger_post_batch takes a list of them.
create type ledger_posting as (
    change_type smallint,  -- 1 add, 2 deduct, 3 refund
    eid         text,
    trade_no    text,
    amount      bigint     -- fen, positive
);

-- One posting as ledger_post_batch decides it: what the database holds for it, then the decision.
create type ledger_step as (
    change_type   smallint,
    eid           text,
    trade_no      text,
    account_id    bigint,    -- null: no account
    pos           integer,   -- the account's position among the call's accounts
    opening       bigint,    -- the account's balance, credit and status before the call
    credit        bigint,
    status        smallint,
    signed        bigint,    -- the amount as recorded (negative for a deduct)
    stored        bigint,    -- the amount already recorded under the posting's key, if any
    same_first    integer,   -- the call's first posting with the same key
    deduct_first  integer,   -- a refund's: the call's first posting with its deduct's key
    deduct_left   bigint,    -- a refund's: what its recorded deduct still allows
    released      boolean,   -- a deduct's: its trade number was released
    outcome       text,
    record_id     bigint,    -- posted, or a replay of a posting of the same call: its new record
    balance_after bigint
);

-- Wallet accounts and their postings. The invariants live here, not in Python:
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

-- Business day of the ledger (package daily limits and expiry): China Standard Time unless the
-- database sets another zone: ALTER DATABASE .. SET beanpay.business_timezone = 'UTC'.
create function ledger_timezone() returns text language sql stable as $$
    select coalesce(nullif(current_setting('beanpay.business_timezone', true), ''), 'Asia/Shanghai')
$$;

create function ledger_day(t timestamptz) returns date language sql stable as $$
    select (t at time zone ledger_timezone())::date
$$;

-- A local business time (as callers give start/end) as a moment.
create function ledger_local(t timestamp) returns timestamptz language sql stable as $$
    select t at time zone ledger_timezone()
$$;

create function ledger_today() returns date language sql stable as $$
    select ledger_day(now())
$$;

create function ledger_time(t timestamptz) returns text language sql immutable as $$
    select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- A new account starts at zero; its balance then moves only through account_record_apply.
create function account_guard() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        if new.balance <> 0 then
            raise exception 'an account opens with balance 0' using errcode = 'check_violation';
        end if;
    elsif new.balance is distinct from old.balance and pg_trigger_depth() < 2 then
        raise exception 'account.balance changes only by inserting an account_record'
            using errcode = 'restrict_violation';
    elsif new.account_id <> old.account_id or new.eid <> old.eid then
        raise exception 'account identity is immutable' using errcode = 'restrict_violation';
    end if;
    return new;
end $$;
create trigger account_guard before insert or update on account
    for each row execute function account_guard();

-- Applying a record: move the balance under the account's row lock (the check constraint refuses
-- an overdraft), store the balance after, and for a refund raise the deduct's "refunded" (its
-- check constraint refuses a refund above the deduct).
create function account_record_apply() returns trigger language plpgsql as $$
begin
    new.refunded := 0;
    new.create_time := now();
    if new.change_type = 3 then
        update account_record set refunded = refunded + new.amount
         where account_id = new.account_id and change_type = 2 and trade_no = new.trade_no;
        if not found then
            raise exception 'refund % has no deduct', new.trade_no using errcode = 'foreign_key_violation';
        end if;
    end if;
    update account set balance = balance + new.amount
     where account_id = new.account_id and status = 0
    returning balance into new.balance;
    if not found then
        raise exception 'account % is locked or missing', new.account_id using errcode = 'object_not_in_prerequisite_state';
    end if;
    return new;
end $$;
create trigger account_record_apply before insert on account_record
    for each row execute function account_record_apply();

-- Records are append-only: the only update allowed is the apply trigger raising "refunded".
create function record_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' and pg_trigger_depth() > 1 and new.refunded >= old.refunded
       and to_jsonb(new) - 'refunded' = to_jsonb(old) - 'refunded' then
        return new;
    end if;
    raise exception '% is append-only (% refused)', tg_table_name, tg_op using errcode = 'restrict_violation';
end $$;
create trigger account_record_append_only before update or delete on account_record
    for each row execute function record_append_only();
create trigger account_record_no_truncate before truncate on account_record
    for each statement execute function record_append_only();

create function account_json(a account) returns json language sql immutable as $$
    select json_build_object('account_id', a.account_id, 'eid', a.eid, 'name', a.name, 'type', a.type,
                             'balance', a.balance, 'credit', a.credit,
                             'status', case a.status when 0 then 'normal' else 'locked' end,
                             'create_time', ledger_time(a.create_time))
$$;

create function record_json(r account_record, p_eid text) returns json language sql immutable as $$
    select json_build_object('record_id', r.record_id, 'account_id', r.account_id, 'eid', p_eid,
                             'trade_no', r.trade_no, 'change_type', r.change_type, 'amount', r.amount,
                             'balance', r.balance, 'create_time', ledger_time(r.create_time))
$$;

-- One posting in one round trip. Returns an outcome and the record (JSON):
--   posted | replay (the original record) | conflict (original record, other amount)
--   | no_account | locked | insufficient | no_deduct | refund_exceeds | balance_limit.
-- The account row is locked first, so the checks below see every committed posting of it;
-- the constraints and triggers above still refuse anything these checks would miss.
create function ledger_post(p_change_type smallint, p_eid text, p_trade_no text, p_amount bigint,
                            out outcome text, out record json)
language plpgsql as $$
declare
    acc account;
    rec account_record;
    deducted account_record;
    signed bigint := case when p_change_type = 2 then -p_amount else p_amount end;
begin
    -- A replay is answered without taking the lock (no write, so no WAL flush at commit);
    -- a record found now stays (append-only), and a new one is checked for again under the lock.
    for attempt in 1 .. 2 loop
        if attempt = 1 then
            select * into acc from account where eid = p_eid;
        else
            select * into acc from account where account_id = acc.account_id for update;
        end if;
        if not found then
            outcome := 'no_account'; return;
        end if;
        select * into rec from account_record
         where account_id = acc.account_id and change_type = p_change_type and trade_no = p_trade_no;
        if found then
            outcome := case when rec.amount = signed then 'replay' else 'conflict' end;
            record := record_json(rec, acc.eid);
            return;
        end if;
    end loop;
    if acc.status <> 0 then
        outcome := 'locked'; return;
    end if;
    if acc.balance + acc.credit + signed < 0 then
        outcome := 'insufficient'; return;
    end if;
    if acc.balance > 4000000000000000000 - signed then
        outcome := 'balance_limit'; return;
    end if;
    if p_change_type = 3 then
        select * into deducted from account_record
         where account_id = acc.account_id and change_type = 2 and trade_no = p_trade_no;
        if not found then
            outcome := 'no_deduct'; return;
        end if;
        if p_amount > -deducted.amount - deducted.refunded then
            outcome := 'refund_exceeds'; return;
        end if;
    end if;
    insert into account_record (account_id, trade_no, change_type, amount, balance)
    values (acc.account_id, p_trade_no, p_change_type, signed, 0)
    returning * into rec;
    outcome := 'posted';
    record := record_json(rec, acc.eid);
end $$;

-- Many postings in one round trip, each exactly as ledger_post alone would answer, in order.
-- The batch's accounts are locked up front in account_id order so concurrent batches never deadlock.
create function ledger_post_batch(p_change_types smallint[], p_eids text[], p_trade_nos text[], p_amounts bigint[])
returns table (op_index integer, outcome text, record json)
language plpgsql as $$
declare
    result record;
begin
    perform 1 from account where eid = any (p_eids) order by account_id for update;
    for i in 1 .. coalesce(array_length(p_eids, 1), 0) loop
        result := ledger_post(p_change_types[i], p_eids[i], p_trade_nos[i], p_amounts[i]);
        op_index := i;
        outcome := result.outcome;
        record := result.record;
        return next;
    end loop;
end $$;

-- Account creation, idempotent by eid: created is false when the eid already had an account.
create function account_open(p_eid text, p_name text, p_type text, p_credit bigint,
                             out created boolean, out account json)
language plpgsql as $$
declare
    acc account;
begin
    insert into account (eid, name, type, credit) values (p_eid, p_name, p_type, p_credit)
    on conflict (eid) do nothing
    returning * into acc;
    created := found;
    if not created then
        select * into acc from account where eid = p_eid;
    end if;
    account := account_json(acc);
end $$;

-- A page of an account's records, newest first, with the total count: {count, data};
-- null when the eid has no account.
create function account_records(p_eid text, p_change_type smallint, p_start timestamp, p_end timestamp,
                                p_limit integer, p_offset integer)
returns json language plpgsql stable as $$
declare
    acc_id bigint;
    total bigint;
    page json;
begin
    select account_id into acc_id from account where eid = p_eid;
    if not found then
        return null;
    end if;
    select count(*) into total from account_record r
     where r.account_id = acc_id and (p_change_type is null or r.change_type = p_change_type)
       and (p_start is null or r.create_time >= ledger_local(p_start)) and (p_end is null or r.create_time < ledger_local(p_end));
    select coalesce(json_agg(record_json(r, p_eid) order by r.record_id desc), '[]'::json) into page
      from (select * from account_record r
             where r.account_id = acc_id and (p_change_type is null or r.change_type = p_change_type)
               and (p_start is null or r.create_time >= ledger_local(p_start)) and (p_end is null or r.create_time < ledger_local(p_end))
             order by r.record_id desc limit p_limit offset p_offset) r;
    return json_build_object('count', total, 'data', page);
end $$;

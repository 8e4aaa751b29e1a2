-- Postings applied set-wise. One call of ledger_post_batch serves a batch request and a group of
-- concurrent single postings alike: it locks the accounts, decides every operation in order exactly
-- as it would be decided alone, and inserts all new records with one statement.
--
-- The invariants stay with PostgreSQL. The per-row record trigger of 001 gives way to one trigger per
-- statement that checks and applies all of the statement's records at once:
--   * it moves each account's balance by the sum of its new records, under the account's row lock
--     (the check constraint still refuses balance + credit < 0; a locked or unknown account refuses);
--   * every new record must carry the balance after it: the account's balance before the statement
--     plus the running sum of the statement's records in record_id order, itself within the credit;
--   * a new record starts with refunded 0 and create_time now();
--   * each refund raises its deduct's "refunded" (capped by the check constraint at the deducted amount);
--     a refund with no deduct inserted before it is refused.
-- So balance = sum of the account's record amounts holds whatever a client inserts, and a record's
-- stored balance is verified rather than trusted. The same trigger refuses a record of an unknown
-- account, so the per-row foreign key check gives way to it; accounts are never deleted.

drop trigger account_record_apply on account_record;
drop function account_record_apply();
drop function ledger_post_batch(smallint[], text[], text[], bigint[]);
drop function ledger_post(smallint, text, text, bigint);

alter table account_record drop constraint account_record_account_id_fkey;

create function account_never_deleted() returns trigger language plpgsql as $$
begin
    raise exception 'accounts are never deleted (% refused)', tg_op using errcode = 'restrict_violation';
end $$;
create trigger account_never_deleted before delete on account
    for each row execute function account_never_deleted();
create trigger account_never_truncated before truncate on account
    for each statement execute function account_never_deleted();

comment on column account_record.balance is
    'the balance after this record; account_record_settle refuses any other value';

-- Balance updates leave room on the page (HOT updates: no index entries for a new row version).
alter table account set (fillfactor = 70);

-- The guard runs only when a row would break it: a balance moved outside a record trigger (the
-- trigger depth seen here is the caller's, one less than inside the guard) or a changed identity.
drop trigger account_guard on account;
create trigger account_guard_insert before insert on account
    for each row execute function account_guard();
create trigger account_guard_update before update on account
    for each row when ((new.balance <> old.balance and pg_trigger_depth() < 1)
                       or new.account_id <> old.account_id or new.eid <> old.eid)
    execute function account_guard();

-- JSON built by concatenation (json_build_object looks up each argument's type on every call); stable,
-- as to_char is, so that the planner inlines these functions.
create or replace function ledger_time(t timestamptz) returns text language sql stable as $$
    select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

create function record_text(p_record_id bigint, p_account_id bigint, p_eid text, p_trade_no text,
                            p_change_type smallint, p_amount bigint, p_balance bigint, p_create_time timestamptz)
returns text language sql stable as $$
    select '{"record_id":' || p_record_id || ',"account_id":' || p_account_id || ',"eid":' || to_json(p_eid)
           || ',"trade_no":' || to_json(p_trade_no) || ',"change_type":' || p_change_type
           || ',"amount":' || p_amount || ',"balance":' || p_balance
           || ',"create_time":"' || ledger_time(p_create_time) || '"}'
$$;

create or replace function record_json(r account_record, p_eid text) returns json language sql stable as $$
    select record_text(r.record_id, r.account_id, p_eid, r.trade_no, r.change_type, r.amount, r.balance,
                       r.create_time)::json
$$;

alter function account_json(account) stable;
alter function package_record_json(package_record, text, text) stable;

-- Both functions below look rows up by key only (a handful per posting). Their plans are made once per
-- session (force_generic_plan: planning them anew costs more than running them) and stay on the indexes
-- (enable_seqscan = off) even when the statistics were taken while a table was still small, where a
-- cached plan would otherwise scan the whole table once per posting.
create function account_record_settle() returns trigger language plpgsql
set enable_seqscan = off set plan_cache_mode = force_generic_plan as $$
declare
    accounts bigint;
    refunds bigint;
    settled bigint[];
    raised bigint;
    problem text;
    problem_code text;
begin
    -- Per account of the statement (no join of the statement's records with anything: one sort and one
    -- index probe per account, whatever the statement's size): the sum of its records, the balance
    -- before them that the first one claims, whether each later one's balance is the one before plus
    -- its amount, the lowest balance claimed, and whether all are new.
    with per_account as (
        select account_id, sum(amount) as total, min(balance - amount) filter (where previous is null) as opening,
               bool_and(previous is null or balance = previous + amount) as chained, min(balance) as lowest,
               bool_and(refunded = 0 and create_time = now()) as new, count(*) filter (where change_type = 3) as refund_count
          from (select r.*, lag(balance) over (partition by account_id order by record_id) as previous
                  from added r) r
         group by account_id
    ), moved as (
        update account a set balance = a.balance + p.total
          from per_account p
         where a.account_id = p.account_id and a.status = 0 and a.balance = p.opening and p.chained
           and p.lowest + a.credit >= 0 and p.new
        returning a.account_id
    )
    select (select count(*) from per_account), (select sum(refund_count) from per_account),
           (select array_agg(account_id) from moved)
      into accounts, refunds, settled;
    if coalesce(array_length(settled, 1), 0) < accounts then
        -- Refused: name the first account whose records do not hold and why (nothing is applied).
        select case when a.account_id is null then format('records of account %s, which does not exist', p.account_id)
                    when a.status <> 0 then format('account %s is locked', p.account_id)
                    when not p.new then format('account %s: a new record has refunded 0 and create_time now()',
                                               p.account_id)
                    when a.balance <> p.opening or not p.chained then
                        format('account %s: each record''s balance must be the balance before it plus its amount'
                               ' (balance before this statement: %s)', p.account_id, a.balance)
                    else format('account %s: balance %s would be beyond the credit %s', p.account_id, p.lowest, a.credit)
               end,
               case when a.account_id is null then 'foreign_key_violation'
                    when a.status <> 0 then 'object_not_in_prerequisite_state' else 'check_violation' end
          into problem, problem_code
          from (select account_id, sum(amount) as total, min(balance - amount) filter (where previous is null) as opening,
                       bool_and(previous is null or balance = previous + amount) as chained, min(balance) as lowest,
                       bool_and(refunded = 0 and create_time = now()) as new
                  from (select r.*, lag(balance) over (partition by account_id order by record_id) as previous
                          from added r) r
                 group by account_id) p
          left join account a using (account_id)
         where p.account_id <> all (coalesce(settled, '{}'))
         order by p.account_id
         limit 1;
        raise exception using message = problem, errcode = problem_code;
    end if;
    if refunds > 0 then
        with raised_deducts as (
            update account_record d set refunded = d.refunded + f.amount
              from added f
             where f.change_type = 3 and d.account_id = f.account_id and d.change_type = 2
               and d.trade_no = f.trade_no and d.record_id < f.record_id
            returning 1
        )
        select count(*) into raised from raised_deducts;
        if raised <> refunds then
            raise exception 'a refund has no deduct before it' using errcode = 'foreign_key_violation';
        end if;
    end if;
    return null;
end $$;
create trigger account_record_settle after insert on account_record
    referencing new table as added
    for each statement execute function account_record_settle();

-- Many postings in one call and one transaction, each answered exactly as it would be alone, in the
-- given order: one row (outcome, record JSON text) per operation, in order. Outcomes:
--   posted | replay (the original record) | conflict | no_account | locked | insufficient
--   | balance_limit | no_deduct | refund_exceeds.
--
-- Calls on the same accounts take turns through transaction-level advisory locks on buckets of eids
-- (account_lock), taken in bucket order, so they never deadlock. A call reads its accounts only once
-- it holds their buckets, so every decision sees every committed posting of those accounts; waiting
-- there rather than on row locks spares re-checking each row a concurrent call updated (EvalPlanQual,
-- ~0.1 ms a row). Locking and unlocking an account take its bucket too (account_set_status); whatever
-- else changes an account meanwhile (a raw record) is caught by account_record_settle, which then
-- refuses the whole call.
create function account_lock(p_eids text[]) returns void language plpgsql as $$
begin
    -- 8004: the ledger's class of advisory locks; the buckets in order
    perform pg_advisory_xact_lock(8004, bucket)
       from (select distinct hashtext(e) & 127 as bucket from unnest(p_eids) e order by bucket) buckets;
end $$;

-- Lock (1) or unlock (0) an account, in turn with its postings: the account as JSON, null when unknown.
create function account_set_status(p_eid text, p_status smallint) returns json language plpgsql as $$
declare
    acc account;
begin
    perform account_lock(array[p_eid]);
    update account set status = p_status where eid = p_eid returning * into acc;
    return case when found then account_json(acc) end;
end $$;

create function ledger_post_batch(p_change_types smallint[], p_eids text[], p_trade_nos text[], p_amounts bigint[])
returns table (outcome text, record text)
language plpgsql set enable_seqscan = off set plan_cache_mode = force_generic_plan as $$
declare
    n integer := coalesce(array_length(p_eids, 1), 0);
    -- per operation
    account_ids bigint[];     -- its account; null for an unknown eid
    pos integer[];            -- its account's position among the call's accounts
    openings bigint[];        -- its account's balance, credit and status, as read before any posting
    credits bigint[];
    statuses smallint[];
    signed bigint[];          -- the amount as recorded (negative for a deduct)
    found_signed bigint[];    -- the amount already stored under the operation's key, if any
    same_first integer[];     -- the call's first operation with the same key
    deduct_first integer[];   -- a refund's: the call's first operation with its deduct's key
    deduct_left bigint[];     -- a refund's: what its stored deduct still allows
    applied_by integer[] := array_fill(null::integer, array[n]);  -- by same_first: the operation that posted the key
    outcomes text[] := array_fill(null::text, array[n]);
    source integer[] := array_fill(null::integer, array[n]);      -- the operation whose new record answers it
    nth_posted integer[] := array_fill(null::integer, array[n]);
    balance_after bigint[] := array_fill(null::bigint, array[n]);
    -- per account position: the running balance
    balances bigint[] := array_fill(null::bigint, array[n]);
    posted integer := 0;
    p integer;
    s bigint;
    j integer;
    refundable bigint;
begin
    if n = 0 then
        return;
    end if;
    perform account_lock(p_eids);

    -- One index probe per operation for its account and for its key (limit 1 keeps each a probe).
    select array_agg(x.account_id order by x.ord), array_agg(x.pos order by x.ord),
           array_agg(x.balance order by x.ord), array_agg(x.credit order by x.ord),
           array_agg(x.status order by x.ord), array_agg(x.signed order by x.ord),
           array_agg(x.found_signed order by x.ord), array_agg(x.same_first order by x.ord),
           array_agg(x.deduct_first order by x.ord), array_agg(x.deduct_left order by x.ord)
      into account_ids, pos, openings, credits, statuses, signed, found_signed, same_first, deduct_first, deduct_left
      from (select o.ord, o.account_id, o.balance, o.credit, o.status, o.signed, r.amount as found_signed,
                   case when o.account_id is not null then dense_rank() over (order by o.account_id) end as pos,
                   min(o.ord) over (partition by o.account_id, o.change_type, o.trade_no) as same_first,
                   min(o.ord) filter (where o.change_type = 2) over (partition by o.account_id, o.trade_no)
                       as deduct_first,
                   d.deduct_left
              from (select op.ord::integer, op.change_type, op.trade_no, a.account_id, a.balance, a.credit, a.status,
                           case when op.change_type = 2 then -op.amount else op.amount end as signed
                      from unnest(p_change_types, p_eids, p_trade_nos, p_amounts)
                           with ordinality op(change_type, eid, trade_no, amount, ord)
                      left join lateral (select account_id, balance, credit, status from account
                                          where eid = op.eid limit 1) a on true) o
              left join lateral (select r.amount from account_record r
                                  where r.account_id = o.account_id and r.change_type = o.change_type
                                    and r.trade_no = o.trade_no limit 1) r on true
              left join lateral (select -d.amount - d.refunded as deduct_left from account_record d
                                  where o.change_type = 3 and d.account_id = o.account_id and d.change_type = 2
                                    and d.trade_no = o.trade_no limit 1) d on true) x;

    for i in 1 .. n loop
        p := pos[i];
        s := signed[i];
        j := applied_by[same_first[i]];
        if p is null then
            outcomes[i] := 'no_account';
            continue;
        end if;
        if balances[p] is null then
            balances[p] := openings[i];
        end if;
        if found_signed[i] is not null then
            outcomes[i] := case when found_signed[i] = s then 'replay' else 'conflict' end;
        elsif j is not null then
            outcomes[i] := case when signed[j] = s then 'replay' else 'conflict' end;
            source[i] := j;
        elsif statuses[i] <> 0 then
            outcomes[i] := 'locked';
        elsif balances[p] + credits[i] + s < 0 then
            outcomes[i] := 'insufficient';
        elsif balances[p] > 4000000000000000000 - s then
            outcomes[i] := 'balance_limit';
        else
            if p_change_types[i] = 3 then
                refundable := coalesce(deduct_left[i], -signed[applied_by[deduct_first[i]]]);
                if refundable is null then
                    outcomes[i] := 'no_deduct';
                    continue;
                elsif s > refundable then
                    outcomes[i] := 'refund_exceeds';
                    continue;
                end if;
            end if;
            balances[p] := balances[p] + s;
            balance_after[i] := balances[p];
            applied_by[same_first[i]] := i;
            posted := posted + 1;
            nth_posted[i] := posted;
            source[i] := i;
            outcomes[i] := 'posted';
        end if;
    end loop;

    -- The new records, inserted in operation order (so record_id order is the order their balances were
    -- computed in: account_record_settle checks it), and every operation's answer, in one statement.
    return query
    with added as (
        insert into account_record (account_id, trade_no, change_type, amount, balance)
        select x.account_id, x.trade_no, x.change_type, x.signed, x.balance_after
          from unnest(outcomes, account_ids, p_trade_nos, p_change_types, signed, balance_after)
               with ordinality x(outcome, account_id, trade_no, change_type, signed, balance_after, ord)
         where x.outcome = 'posted'
         order by x.ord
        returning record_id
    ), new_records as (
        select array_agg(record_id order by record_id) as ids from added
    )
    select x.outcome,
           case when x.outcome = 'replay' and x.source is null then record_json(stored.rec, x.eid)::text
                when x.outcome in ('posted', 'replay')
                then record_text((select ids from new_records)[nth_posted[x.source]], x.account_id, x.eid,
                                 x.trade_no, x.change_type, signed[x.source], balance_after[x.source], now()) end
      from unnest(outcomes, source, account_ids, p_eids, p_trade_nos, p_change_types)
           with ordinality x(outcome, source, account_id, eid, trade_no, change_type, ord)
      left join lateral (select r as rec from account_record r
                          where x.outcome = 'replay' and x.source is null and r.account_id = x.account_id
                            and r.change_type = x.change_type and r.trade_no = x.trade_no limit 1) stored on true
     order by x.ord;
end $$;

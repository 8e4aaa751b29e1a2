-- Releasing a hold for good. A caller that holds money with a deduct and then cannot learn whether the
-- deduct arrived (its call timed out: the deduct may still be on its way, in a busy or frozen server)
-- must be able to give the hold back whatever the order in which the deduct and the release arrive:
--   * the deduct arrived first: the release refunds it, as /account/balance/refund does;
--   * the release arrives first: it records the trade number in deduct_release, and from then on a
--     deduct with that trade number is refused (outcome "released"), for good.
-- A 404 from a refund proves nothing while the deduct may still be in flight; a release is final.
--
-- PostgreSQL enforces it whatever the client does: a deduct record of a released trade number, and a
-- release of a trade number that has a deduct record, are refused. Each side takes the account's row
-- lock before it looks for the other, so two concurrent transactions cannot both miss each other.
-- Releases are keyed by eid, not account_id: a release is final even for an account that does not
-- exist yet.

create table deduct_release (
    eid         text        not null check (length(eid) between 1 and 64),
    trade_no    text        not null check (length(trade_no) between 1 and 64),
    amount      bigint      not null check (amount > 0),   -- the hold that was released (fen)
    create_time timestamptz not null default now(),
    primary key (eid, trade_no)
);

create function deduct_release_guard() returns trigger language plpgsql as $$
begin
    perform 1 from account where eid = new.eid for update;
    if exists (select 1 from account_record r join account a using (account_id)
                where a.eid = new.eid and r.change_type = 2 and r.trade_no = new.trade_no) then
        raise exception 'trade_no % of % was deducted: its release is a refund', new.trade_no, new.eid
            using errcode = 'check_violation';
    end if;
    new.create_time := now();
    return new;
end $$;
create trigger deduct_release_guard before insert on deduct_release
    for each row execute function deduct_release_guard();

create function deduct_release_final() returns trigger language plpgsql as $$
begin
    raise exception 'a release is final (% refused)', tg_op using errcode = 'restrict_violation';
end $$;
create trigger deduct_release_final before update or delete on deduct_release
    for each row execute function deduct_release_final();
create trigger deduct_release_no_truncate before truncate on deduct_release
    for each statement execute function deduct_release_final();

create function account_record_not_released() returns trigger language plpgsql as $$
begin
    if not exists (select 1 from added where change_type = 2) then
        return null;
    end if;
    perform 1 from account where account_id in (select account_id from added where change_type = 2)
     order by account_id for update;
    if exists (select 1 from added d join account a using (account_id)
                 join deduct_release r on r.eid = a.eid and r.trade_no = d.trade_no
                where d.change_type = 2) then
        raise exception 'a deduct of a released trade_no' using errcode = 'check_violation';
    end if;
    return null;
end $$;
create trigger account_record_not_released after insert on account_record
    referencing new table as added
    for each statement execute function account_record_not_released();

-- ledger_post_batch (003) with one more outcome: "released", a deduct whose trade number was released.
create or replace function ledger_post_batch(p_change_types smallint[], p_eids text[], p_trade_nos text[], p_amounts bigint[])
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
    released boolean[];       -- a deduct's: its trade number was released (deduct_release)
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
           array_agg(x.deduct_first order by x.ord), array_agg(x.deduct_left order by x.ord),
           array_agg(x.released order by x.ord)
      into account_ids, pos, openings, credits, statuses, signed, found_signed, same_first, deduct_first, deduct_left,
           released
      from (select o.ord, o.account_id, o.balance, o.credit, o.status, o.signed, r.amount as found_signed,
                   case when o.account_id is not null then dense_rank() over (order by o.account_id) end as pos,
                   min(o.ord) over (partition by o.account_id, o.change_type, o.trade_no) as same_first,
                   min(o.ord) filter (where o.change_type = 2) over (partition by o.account_id, o.trade_no)
                       as deduct_first,
                   d.deduct_left, rl.released is not null as released
              from (select op.ord::integer, op.change_type, op.eid, op.trade_no, a.account_id, a.balance, a.credit, a.status,
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
                                    and d.trade_no = o.trade_no limit 1) d on true
              left join lateral (select true as released from deduct_release rl
                                  where o.change_type = 2 and rl.eid = o.eid and rl.trade_no = o.trade_no) rl on true) x;

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
        elsif released[i] then
            outcomes[i] := 'released';
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

-- Release the hold p_trade_no of p_eid (p_amount fen), in turn with the account's postings: the outcome
-- (posted | replay, or a refusal: conflict | locked | balance_limit) and, when released, the answer
-- {eid, trade_no, amount, released: "refund" | "void", record: the refund record or null, create_time}.
--   * a deduct of p_amount exists: it is refunded (a replay when its refund is there already); a deduct
--     of another amount is a conflict, since a hold is released whole;
--   * no deduct: the trade number is recorded as released, whether or not the account exists, and no
--     deduct with it is ever applied; the same release again is a replay, with another amount a conflict.
create function ledger_release(p_eid text, p_trade_no text, p_amount bigint, out outcome text, out body text)
language plpgsql as $$
declare
    deducted bigint;
    refund text;
    rel deduct_release;
begin
    perform account_lock(array[p_eid]);
    select -r.amount into deducted from account_record r join account a using (account_id)
     where a.eid = p_eid and r.change_type = 2 and r.trade_no = p_trade_no;
    if found then
        if deducted <> p_amount then
            outcome := 'conflict';
            return;
        end if;
        select b.outcome, b.record into outcome, refund
          from ledger_post_batch(array[3]::smallint[], array[p_eid], array[p_trade_no], array[p_amount]) b;
        if outcome in ('posted', 'replay') then
            body := json_build_object('eid', p_eid, 'trade_no', p_trade_no, 'amount', p_amount, 'released', 'refund',
                                      'record', refund::json, 'create_time', refund::json ->> 'create_time')::text;
        end if;
        return;
    end if;
    insert into deduct_release (eid, trade_no, amount) values (p_eid, p_trade_no, p_amount)
    on conflict (eid, trade_no) do nothing
    returning * into rel;
    if found then
        outcome := 'posted';
    else
        select * into rel from deduct_release where eid = p_eid and trade_no = p_trade_no;
        outcome := case when rel.amount = p_amount then 'replay' else 'conflict' end;
        if outcome = 'conflict' then
            return;
        end if;
    end if;
    body := json_build_object('eid', rel.eid, 'trade_no', rel.trade_no, 'amount', rel.amount, 'released', 'void',
                              'record', null, 'create_time', ledger_time(rel.create_time))::text;
end $$;

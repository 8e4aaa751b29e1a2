-- Wallet postings: one function applies any list of them (a batch request, or a group of concurrent single
-- postings), in one call and one transaction, each answered exactly as it would be alone, in order.

-- The postings of a JSON array [{change_type, eid, trade_no, amount}, ...], in order: how the services
-- send a list (one text parameter, cheaper to build and to send than a composite array).
create or replace function ledger_postings(p_postings json) returns ledger_posting[] language plpgsql stable
set plan_cache_mode = force_generic_plan as $$
begin
    -- PL/pgSQL rather than SQL: its plan is made once per session, a SQL function's on every call
    return (select coalesce(array_agg(row(p.change_type, p.eid, p.trade_no, p.amount)::ledger_posting order by p.n), '{}')
              from json_populate_recordset(null::ledger_posting, p_postings)
                   with ordinality p(change_type, eid, trade_no, amount, n));
end $$;

-- One row (outcome, record JSON text) per posting, in order. Outcomes:
--   posted | replay (the original record) | conflict (same trade number, another amount) | no_account
--   | released (a deduct of a released trade number) | locked | insufficient | balance_limit | no_deduct
--   | refund_exceeds.
-- A refusal is an outcome, not an error, so one posting never affects another; a refund may refund a deduct
-- made earlier in the same call. It takes the buckets of the call's accounts (account_lock), reads the
-- accounts and looks every posting's key up (one index probe each), decides every posting in order in one
-- pass over ledger_step rows, and inserts all new records with one statement (account_record_settle
-- checks and applies them). A replay-only call writes nothing and commits without a WAL flush.
create or replace function ledger_post_batch(p_postings ledger_posting[])
returns table (outcome text, record text)
language plpgsql set enable_seqscan = off set plan_cache_mode = force_generic_plan as $$
declare
    steps ledger_step[];  -- one per posting, in order: what the database holds for it, then what is decided
    step ledger_step;
    balances bigint[];    -- per account of the call (by ledger_step.pos): its balance so far
    poster integer[];     -- per key of the call (by ledger_step.same_first): the posting that posted it here
    source ledger_step;
    refundable bigint;
    posted integer := 0;
begin
    if coalesce(cardinality(p_postings), 0) = 0 then
        return;
    end if;
    perform account_lock(array(select p.eid from unnest(p_postings) p));

    -- One index probe per posting for its account, its key, a refund's deduct and a deduct's release
    -- (limit 1 keeps each a probe).
    select array_agg(row(x.change_type, x.eid, x.trade_no, x.account_id, x.pos, x.balance, x.credit, x.status,
                         x.signed, x.stored, x.same_first, x.deduct_first, x.deduct_left, x.released, null, null, null
                        )::ledger_step order by x.n)
      into steps
      from (select o.*, r.amount as stored, d.deduct_left, rl.released is not null as released,
                   case when o.account_id is not null then dense_rank() over (order by o.account_id) end as pos,
                   min(o.n) over (partition by o.account_id, o.change_type, o.trade_no) as same_first,
                   min(o.n) filter (where o.change_type = 2) over (partition by o.account_id, o.trade_no)
                       as deduct_first
              from (select op.n::integer, op.change_type, op.eid, op.trade_no, a.account_id, a.balance, a.credit,
                           a.status, case when op.change_type = 2 then -op.amount else op.amount end as signed
                      from unnest(p_postings) with ordinality op(change_type, eid, trade_no, amount, n)
                      left join lateral (select account_id, balance, credit, status from account
                                          where eid = op.eid limit 1) a on true) o
              left join lateral (select r.amount from account_record r
                                  where r.account_id = o.account_id and r.change_type = o.change_type
                                    and r.trade_no = o.trade_no limit 1) r on true
              left join lateral (select -d.amount - d.refunded as deduct_left from account_record d
                                  where o.change_type = 3 and d.account_id = o.account_id and d.change_type = 2
                                    and d.trade_no = o.trade_no limit 1) d on true
              left join lateral (select true as released from deduct_release rl
                                  where o.change_type = 2 and rl.eid = o.eid and rl.trade_no = o.trade_no) rl on true
           ) x;
    balances := array_fill(null::bigint, array[cardinality(steps)]);
    poster := array_fill(null::integer, array[cardinality(steps)]);

    for i in 1 .. cardinality(steps) loop
        step := steps[i];
        if step.account_id is null then
            step.outcome := 'no_account';
        else
            balances[step.pos] := coalesce(balances[step.pos], step.opening);
            refundable := coalesce(step.deduct_left, -steps[poster[step.deduct_first]].signed);
            if step.stored is not null then
                step.outcome := case when step.stored = step.signed then 'replay' else 'conflict' end;
            elsif poster[step.same_first] is not null then
                source := steps[poster[step.same_first]];
                if source.signed = step.signed then
                    step.outcome := 'replay';
                    step.record_id := source.record_id;
                    step.balance_after := source.balance_after;
                else
                    step.outcome := 'conflict';
                end if;
            elsif step.released then
                step.outcome := 'released';
            elsif step.status <> 0 then
                step.outcome := 'locked';
            elsif balances[step.pos] + step.credit + step.signed < 0 then
                step.outcome := 'insufficient';
            elsif balances[step.pos] > 4000000000000000000 - step.signed then
                step.outcome := 'balance_limit';
            elsif step.change_type = 3 and refundable is null then
                step.outcome := 'no_deduct';
            elsif step.change_type = 3 and step.signed > refundable then
                step.outcome := 'refund_exceeds';
            else
                balances[step.pos] := balances[step.pos] + step.signed;
                step.balance_after := balances[step.pos];
                -- drawn in posting order, so record_id order is the order the balances were computed in
                -- (account_record_settle checks it)
                step.record_id := nextval('account_record_record_id_seq');
                poster[step.same_first] := i;
                posted := posted + 1;
                step.outcome := 'posted';
            end if;
        end if;
        steps[i] := step;
    end loop;

    if posted > 0 then
        insert into account_record (record_id, account_id, trade_no, change_type, amount, balance)
        select s.record_id, s.account_id, s.trade_no, s.change_type, s.signed, s.balance_after
          from unnest(steps) s
         where s.outcome = 'posted';
    end if;
    -- A replay of a posting of this call carries that posting's new record; of an earlier call, the stored one.
    return query
    select s.outcome,
           case when s.record_id is not null then
                    record_text(s.record_id, s.account_id, s.eid, s.trade_no, s.change_type, s.signed, s.balance_after,
                                now())
                when s.outcome = 'replay' then
                    (select record_json(r, s.eid)::text from account_record r
                      where r.account_id = s.account_id and r.change_type = s.change_type and r.trade_no = s.trade_no)
           end
      from unnest(steps) with ordinality s
     order by s.ordinality;
end $$;

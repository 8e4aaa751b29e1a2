-- Wallet records: append-only, checked and applied per statement, answered as JSON, queried by page.
--
-- The invariants live here, whatever the client does:
--   * balance = sum of the account's record amounts: inserting records is the only way to move a balance;
--   * balance + credit >= 0 (the account's check constraint, under its row lock);
--   * every new record carries the balance after it, which is verified, never trusted;
--   * a refund never exceeds its deduct, and follows it;
--   * records are never updated (but for a deduct's "refunded") or deleted.

-- Records are append-only: the only update allowed is a record trigger raising a deduct's "refunded".
create or replace function record_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' and pg_trigger_depth() > 1 and new.refunded >= old.refunded
       and to_jsonb(new) - 'refunded' = to_jsonb(old) - 'refunded' then
        return new;
    end if;
    raise exception '% is append-only (% refused)', tg_table_name, tg_op using errcode = 'restrict_violation';
end $$;
create or replace trigger account_record_append_only before update or delete on account_record
    for each row execute function record_append_only();
create or replace trigger account_record_no_truncate before truncate on account_record
    for each statement execute function record_append_only();

-- Checks and applies all of a statement's new records at once, per account:
--   * moves the balance by the sum of the account's new records (update ... where status = 0 takes the
--     account's row lock; a locked or unknown account refuses the statement);
--   * refuses the statement unless every new record carries the balance after it: the account's balance
--     before the statement plus the running sum of the statement's records in record_id order, itself
--     within the credit; a new record has refunded 0 and create_time now();
--   * raises each refund's deduct "refunded" (capped at the deducted amount by its check constraint);
--     a refund with no deduct inserted before it is refused.
-- It looks rows up by key only: its plans are made once per session (force_generic_plan: planning anew
-- costs more than running them) and stay on the indexes (enable_seqscan = off) even when the statistics
-- were taken while a table was still small.
create or replace function account_record_settle() returns trigger language plpgsql
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
create or replace trigger account_record_settle after insert on account_record
    referencing new table as added
    for each statement execute function account_record_settle();

-- A record as the API answers it, built by concatenation (json_build_object looks up each argument's type
-- on every call); stable, as to_char is, so that the planner inlines it.
create or replace function record_text(p_record_id bigint, p_account_id bigint, p_eid text, p_trade_no text,
                                       p_change_type smallint, p_amount bigint, p_balance bigint,
                                       p_create_time timestamptz)
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

-- A page of an account's records, newest first, with the total count: {count, data};
-- null when the eid has no account.
create or replace function account_records(p_eid text, p_change_type smallint, p_start timestamp, p_end timestamp,
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

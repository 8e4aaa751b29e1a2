-- Releasing a hold for good. A caller that holds money with a deduct and then cannot learn whether the
-- deduct arrived (its call timed out: the deduct may still be on its way, in a busy or frozen server)
-- gives the hold back whatever the order in which the deduct and the release arrive:
--   * the deduct arrived first: the release refunds it, as /account/balance/refund does;
--   * the release arrives first: it records the trade number in deduct_release, and from then on a
--     deduct with that trade number is refused (outcome "released"), for good.
-- PostgreSQL enforces it whatever the client does: a deduct record of a released trade number, and a
-- release of a trade number that has a deduct record, are refused. Each side takes the account's row
-- lock before it looks for the other, so two concurrent transactions cannot both miss each other.

create or replace function deduct_release_guard() returns trigger language plpgsql as $$
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
create or replace trigger deduct_release_guard before insert on deduct_release
    for each row execute function deduct_release_guard();

create or replace function deduct_release_final() returns trigger language plpgsql as $$
begin
    raise exception 'a release is final (% refused)', tg_op using errcode = 'restrict_violation';
end $$;
create or replace trigger deduct_release_final before update or delete on deduct_release
    for each row execute function deduct_release_final();
create or replace trigger deduct_release_no_truncate before truncate on deduct_release
    for each statement execute function deduct_release_final();

create or replace function account_record_not_released() returns trigger language plpgsql as $$
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
create or replace trigger account_record_not_released after insert on account_record
    referencing new table as added
    for each statement execute function account_record_not_released();

-- Release the hold p_trade_no of p_eid (p_amount fen), in turn with the account's postings: the outcome
-- (posted | replay, or a refusal: conflict | locked | balance_limit) and, when released, the answer
-- {eid, trade_no, amount, released: "refund" | "void", record: the refund record or null, create_time}.
--   * a deduct of p_amount exists: it is refunded (a replay when its refund is there already); a deduct
--     of another amount is a conflict, since a hold is released whole;
--   * no deduct: the trade number is recorded as released, whether or not the account exists, and no
--     deduct with it is ever applied; the same release again is a replay, with another amount a conflict.
create or replace function ledger_release(p_eid text, p_trade_no text, p_amount bigint, out outcome text,
                                          out body text)
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
          from ledger_post_batch(array[row(3, p_eid, p_trade_no, p_amount)::ledger_posting]) b;
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

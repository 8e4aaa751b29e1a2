-- Wallet accounts: their guards, their JSON, opening, locking and the one locking rule.
--
-- The locking rule (wallets, packages and releases alike): a function that decides on an account's books
-- (a posting, a capacity posting, a release, a lock or unlock, opening a package) first takes the account's
-- bucket with account_lock, and only then reads what it decides on. Calls on the same accounts so take
-- turns, in bucket order, and never deadlock; waiting on the bucket rather than on row locks spares
-- re-checking each row a concurrent call updated (EvalPlanQual, ~0.1 ms a row). The triggers that guard the
-- invariants take row locks themselves, so that a client that did not take the bucket (raw SQL) is refused
-- rather than trusted.

-- A new account starts at zero; its balance then moves only through account_record_settle.
create or replace function account_guard() returns trigger language plpgsql as $$
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

create or replace trigger account_guard_insert before insert on account
    for each row execute function account_guard();
-- The guard runs only when a row would break it: a balance moved outside a record trigger (the trigger
-- depth seen here is the caller's, one less than inside the guard) or a changed identity.
create or replace trigger account_guard_update before update on account
    for each row when ((new.balance <> old.balance and pg_trigger_depth() < 1)
                       or new.account_id <> old.account_id or new.eid <> old.eid)
    execute function account_guard();

-- Accounts are never deleted (records refer to them; the settle trigger refuses records of unknown accounts).
create or replace function account_never_deleted() returns trigger language plpgsql as $$
begin
    raise exception 'accounts are never deleted (% refused)', tg_op using errcode = 'restrict_violation';
end $$;
create or replace trigger account_never_deleted before delete on account
    for each row execute function account_never_deleted();
create or replace trigger account_never_truncated before truncate on account
    for each statement execute function account_never_deleted();

create or replace function account_json(a account) returns json language sql stable as $$
    select json_build_object('account_id', a.account_id, 'eid', a.eid, 'name', a.name, 'type', a.type,
                             'balance', a.balance, 'credit', a.credit,
                             'status', case a.status when 0 then 'normal' else 'locked' end,
                             'create_time', ledger_time(a.create_time))
$$;

-- Take the buckets of p_eids (transaction-level advisory locks, class 8004, hashtext(eid) & 127), in
-- bucket order. Held until the transaction ends: the caller's own when the ledger runs inside it.
create or replace function account_lock(p_eids text[]) returns void language plpgsql as $$
begin
    perform pg_advisory_xact_lock(8004, bucket)
       from (select distinct hashtext(e) & 127 as bucket from unnest(p_eids) e order by bucket) buckets;
end $$;

-- Account creation, idempotent by eid: created is false when the eid already had an account.
create or replace function account_open(p_eid text, p_name text, p_type text, p_credit bigint,
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

-- Lock (1) or unlock (0) an account, in turn with its postings: the account as JSON, null when unknown.
create or replace function account_set_status(p_eid text, p_status smallint) returns json language plpgsql as $$
declare
    acc account;
begin
    perform account_lock(array[p_eid]);
    update account set status = p_status where eid = p_eid returning * into acc;
    return case when found then account_json(acc) end;
end $$;

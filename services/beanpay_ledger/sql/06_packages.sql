-- Service packages: a capacity (a count of uses) per account and spkg_id, with the wallet's rules:
--   * total_remain = sum of the package's record nums, never below 0;
--   * deduct_today <= capacity_daily (reset when the business day changes);
--   * no deduct after expires; a trade_no applied once per (package, change_type);
--   * a refund never exceeds its deduct; records are append-only.
-- Capacity postings follow the wallet's locking rule (02_accounts.sql): the account's bucket first.

-- Capacity moves only through package_record_apply; a package opens empty (its opening record fills it).
create or replace function package_guard() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        if new.total_capacity <> 0 or new.total_remain <> 0 or new.deduct_today <> 0 then
            raise exception 'a package opens empty' using errcode = 'check_violation';
        end if;
    elsif pg_trigger_depth() < 2 and (new.total_capacity, new.total_remain, new.deduct_today, new.deduct_date)
            is distinct from (old.total_capacity, old.total_remain, old.deduct_today, old.deduct_date) then
        raise exception 'package capacity changes only by inserting a package_record' using errcode = 'restrict_violation';
    end if;
    return new;
end $$;
create or replace trigger package_guard before insert or update on package
    for each row execute function package_guard();

-- Applying a package record under the package's row lock: remain (never below 0), total, the day's
-- deductions (reset on a new business day, capped by capacity_daily) and expiry.
create or replace function package_record_apply() returns trigger language plpgsql as $$
declare
    today date := ledger_today();
    deducted package_record;
begin
    new.refunded := 0;
    new.create_time := now();
    if new.change_type = 3 then
        update package_record set refunded = refunded + new.num
         where package_id = new.package_id and change_type = 2 and trade_no = new.trade_no
        returning * into deducted;
        if not found then
            raise exception 'refund % has no deduct', new.trade_no using errcode = 'foreign_key_violation';
        end if;
    end if;
    update package p set
        total_remain = total_remain + new.num,
        total_capacity = total_capacity + case when new.change_type in (0, 1) then new.num else 0 end,
        deduct_today = case
            when new.change_type = 2 then
                case when deduct_date = today then deduct_today else 0 end - new.num
            when new.change_type = 3 and deduct_date = today and ledger_day(deducted.create_time) = today then
                greatest(deduct_today - new.num, 0)
            else deduct_today end,
        deduct_date = case when new.change_type = 2 then today else deduct_date end
     where package_id = new.package_id
    returning total_remain into new.remain;
    if new.change_type = 2 and today > (select expires from package where package_id = new.package_id) then
        raise exception 'package % expired', new.package_id using errcode = 'object_not_in_prerequisite_state';
    end if;
    return new;
end $$;
create or replace trigger package_record_apply before insert on package_record
    for each row execute function package_record_apply();

create or replace trigger package_record_append_only before update or delete on package_record
    for each row execute function record_append_only();
create or replace trigger package_record_no_truncate before truncate on package_record
    for each statement execute function record_append_only();

create or replace function package_json(p package, p_eid text) returns json language sql stable as $$
    select json_build_object('spkg_id', p.spkg_id, 'eid', p_eid, 'name', p.name,
                             'total_capacity', p.total_capacity, 'total_remain', p.total_remain,
                             'capacity_daily', p.capacity_daily,
                             'deduct_today', case when p.deduct_date = ledger_today() then p.deduct_today else 0 end,
                             'expires', to_char(p.expires, 'YYYYMMDD'), 'create_time', ledger_time(p.create_time))
$$;

create or replace function package_record_json(r package_record, p_eid text, p_spkg_id text) returns json
language sql stable as $$
    select json_build_object('record_id', r.record_id, 'eid', p_eid, 'spkg_id', p_spkg_id,
                             'trade_no', r.trade_no, 'change_type', r.change_type, 'num', r.num,
                             'remain', r.remain, 'create_time', ledger_time(r.create_time))
$$;

-- Package creation, idempotent by (eid, spkg_id); the opening record fills the package with total.
-- outcome: created | exists | no_account.
create or replace function package_open(p_eid text, p_spkg_id text, p_name text, p_total bigint, p_daily bigint,
                                        p_expires date, out outcome text, out package json)
language plpgsql as $$
declare
    acc_id bigint;
    pkg package;
begin
    perform account_lock(array[p_eid]);
    select account_id into acc_id from account where eid = p_eid;
    if not found then
        outcome := 'no_account'; return;
    end if;
    insert into package (account_id, spkg_id, name, capacity_daily, expires)
    values (acc_id, p_spkg_id, p_name, p_daily, p_expires)
    on conflict (account_id, spkg_id) do nothing
    returning * into pkg;
    if found then
        outcome := 'created';
        if p_total > 0 then
            insert into package_record (package_id, trade_no, change_type, num, remain)
            values (pkg.package_id, 'open', 0, p_total, 0);
            select * into pkg from package where package_id = pkg.package_id;
        end if;
    else
        outcome := 'exists';
        select * into pkg from package where account_id = acc_id and spkg_id = p_spkg_id;
    end if;
    package := package_json(pkg, p_eid);
end $$;

-- One capacity posting in one round trip, decided like a wallet posting. outcome: posted | replay | conflict
-- | no_account | no_package | locked | expired | insufficient_capacity | daily_limit | no_deduct | refund_exceeds
-- | capacity_limit.
create or replace function package_post(p_change_type smallint, p_eid text, p_spkg_id text, p_trade_no text,
                                        p_num bigint, out outcome text, out record json)
language plpgsql as $$
declare
    acc account;
    pkg package;
    rec package_record;
    deducted package_record;
    today date := ledger_today();
    signed bigint := case when p_change_type = 2 then -p_num else p_num end;
    used_today bigint;
begin
    perform account_lock(array[p_eid]);
    select * into acc from account where eid = p_eid;
    if not found then
        outcome := 'no_account'; return;
    end if;
    select * into pkg from package where account_id = acc.account_id and spkg_id = p_spkg_id;
    if not found then
        outcome := 'no_package'; return;
    end if;
    select * into rec from package_record
     where package_id = pkg.package_id and change_type = p_change_type and trade_no = p_trade_no;
    if found then
        outcome := case when rec.num = signed then 'replay' else 'conflict' end;
        record := package_record_json(rec, p_eid, p_spkg_id);
        return;
    end if;
    if acc.status <> 0 then
        outcome := 'locked'; return;
    end if;
    if p_change_type = 2 then
        used_today := case when pkg.deduct_date = today then pkg.deduct_today else 0 end;
        if today > pkg.expires then
            outcome := 'expired'; return;
        elsif pkg.total_remain < p_num then
            outcome := 'insufficient_capacity'; return;
        elsif pkg.capacity_daily is not null and used_today + p_num > pkg.capacity_daily then
            outcome := 'daily_limit'; return;
        end if;
    elsif pkg.total_capacity > 4000000000000000000 - p_num then
        outcome := 'capacity_limit'; return;
    end if;
    if p_change_type = 3 then
        select * into deducted from package_record
         where package_id = pkg.package_id and change_type = 2 and trade_no = p_trade_no;
        if not found then
            outcome := 'no_deduct'; return;
        end if;
        if p_num > -deducted.num - deducted.refunded then
            outcome := 'refund_exceeds'; return;
        end if;
    end if;
    insert into package_record (package_id, trade_no, change_type, num, remain)
    values (pkg.package_id, p_trade_no, p_change_type, signed, 0)
    returning * into rec;
    outcome := 'posted';
    record := package_record_json(rec, p_eid, p_spkg_id);
end $$;

-- A package's view, or null when the account or package does not exist.
create or replace function package_find(p_eid text, p_spkg_id text) returns json language sql stable as $$
    select package_json(p, a.eid) from package p join account a using (account_id)
     where a.eid = p_eid and p.spkg_id = p_spkg_id
$$;

-- A page of a package's records, newest first: {count, data}; null when the package does not exist.
create or replace function package_records(p_eid text, p_spkg_id text, p_change_type smallint, p_start timestamp,
                                           p_end timestamp, p_limit integer, p_offset integer)
returns json language plpgsql stable as $$
declare
    pkg_id bigint;
    total bigint;
    page json;
begin
    select p.package_id into pkg_id from package p join account a using (account_id)
     where a.eid = p_eid and p.spkg_id = p_spkg_id;
    if not found then
        return null;
    end if;
    select count(*) into total from package_record r
     where r.package_id = pkg_id and (p_change_type is null or r.change_type = p_change_type)
       and (p_start is null or r.create_time >= ledger_local(p_start)) and (p_end is null or r.create_time < ledger_local(p_end));
    select coalesce(json_agg(package_record_json(r, p_eid, p_spkg_id) order by r.record_id desc), '[]'::json)
      into page
      from (select * from package_record r
             where r.package_id = pkg_id and (p_change_type is null or r.change_type = p_change_type)
               and (p_start is null or r.create_time >= ledger_local(p_start)) and (p_end is null or r.create_time < ledger_local(p_end))
             order by r.record_id desc limit p_limit offset p_offset) r;
    return json_build_object('count', total, 'data', page);
end $$;

-- What a user's live freezes hold, and what a project's live TENDER freezes hold, tallied by the database
-- itself on every change of a pre-transaction (bank_tally_held), so that the check at commit compares two
-- columns of one locked row: it summed every live freeze of the user and of the project before, twice per
-- freeze, so that each tender of a project cost more than the one before it (while the project's lock
-- was held). The tallies are written by that trigger only, and a freeze deleted is refused like one changed.

alter table bank_users add column held bigint not null default 0;  -- Σ remaining of the user's freezes
alter table projects add column held bigint not null default 0;    -- Σ remaining of its TENDER freezes

update bank_users u set held = t.held
from (select user_no, sum(remaining) as held from pre_transactions where remaining > 0 group by user_no) t
where u.user_no = t.user_no;
update projects p set held = t.held
from (select project_no, sum(remaining) as held from pre_transactions
      where remaining > 0 and biz_type = 'TENDER' group by project_no) t
where p.project_no = t.project_no;

-- The tallies follow every inserted, changed or deleted pre-transaction: the project first, then the
-- user, the order in which every movement locks them (a freeze and the confirmations have locked both
-- already; a cancel has locked the project and the freeze, and the user comes next either way).
create function bank_tally_held() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.remaining <> 0 then
        if old.biz_type = 'TENDER' then
            update projects set held = held - old.remaining where project_no = old.project_no;
        end if;
        update bank_users set held = held - old.remaining where user_no = old.user_no;
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.remaining <> 0 then
        if new.biz_type = 'TENDER' then
            update projects set held = held + new.remaining where project_no = new.project_no;
        end if;
        update bank_users set held = held + new.remaining where user_no = new.user_no;
    end if;
    return null;
end $$;

create trigger pre_transactions_tally after insert or update of remaining, user_no, project_no, biz_type or delete
    on pre_transactions for each row execute function bank_tally_held();

-- TRUNCATE fires no row trigger: it would empty the freezes behind the tallies' back.
create function bank_refuse_truncate() returns trigger language plpgsql as $$
begin
    raise exception '% is never truncated: its rows are what the frozen balances hold', tg_table_name
        using errcode = 'check_violation';
end $$;

create trigger pre_transactions_no_truncate before truncate on pre_transactions
    for each statement execute function bank_refuse_truncate();

-- A tally is written from inside a trigger only (bank_tally_held is the one that does): a statement of its
-- own (trigger depth 1 here) writing one is refused, through a function or a writable CTE too. The
-- database's owner can still disable triggers; docs/bank_sandbox.md gives the query that finds a drift.
create function bank_guard_held() returns trigger language plpgsql as $$
begin
    if pg_trigger_depth() < 2 and new.held is distinct from (case when tg_op = 'INSERT' then 0 else old.held end) then
        raise exception '%.held is tallied from the pre-transactions only', tg_table_name
            using errcode = 'check_violation';
    end if;
    return new;
end $$;

create trigger bank_users_guard_held before insert or update of held on bank_users
    for each row execute function bank_guard_held();
create trigger projects_guard_held before insert or update of held on projects
    for each row execute function bank_guard_held();

-- At commit, the frozen balance (the raising) of every user (project) whose balance or tally changed
-- equals its tally. A pre-transaction that holds money cannot change without changing a tally, so it
-- needs no check of its own any more.
create or replace function bank_check_held() returns trigger language plpgsql as $$
declare
    held_now bigint;
    recorded bigint;
begin
    if tg_table_name = 'bank_users' then
        select frozen_balance, held into recorded, held_now from bank_users where user_no = new.user_no;
        if recorded is distinct from held_now then
            raise exception 'frozen balance of % is %, but its pre-transactions hold %', new.user_no, recorded,
                held_now using errcode = 'check_violation';
        end if;
    else
        select raising, held into recorded, held_now from projects where project_no = new.project_no;
        if recorded is distinct from held_now then
            raise exception 'project % is raising %, but its TENDER freezes hold %', new.project_no, recorded,
                held_now using errcode = 'check_violation';
        end if;
    end if;
    return null;
end $$;

drop trigger pre_transactions_held on pre_transactions;
drop trigger bank_users_frozen_held on bank_users;
drop trigger projects_raising_held on projects;
create constraint trigger bank_users_frozen_held after insert or update of frozen_balance, held on bank_users
    deferrable initially deferred for each row execute function bank_check_held();
create constraint trigger projects_raising_held after insert or update of raising, held on projects
    deferrable initially deferred for each row execute function bank_check_held();

-- Nothing reads the freezes by what they still hold any more: the sums those indexes served are tallies now.
drop index pre_transactions_held_by_user;
drop index pre_transactions_raising;

-- Lending inside the bank (the transaction services of POST /service): frozen balances, the
-- platform's own account, projects and pre-transactions, and statement lines for every movement.
-- The money rules are PostgreSQL's own: no balance below zero, a pre-transaction's remaining frozen
-- amount between 0 and its amount, and at commit every frozen balance equal to what its
-- pre-transactions still hold (a project's raised amount likewise).

-- bank_balance is the available part of a depository account; frozen_balance what pre-transactions hold.
alter table bank_users add column frozen_balance bigint not null default 0 check (frozen_balance >= 0);

-- The platform's own account at the bank (userNo = its platformNo): withdraw commissions and every
-- commission of the transaction services are paid into it.
create table platform_accounts (
    platform_no  text primary key,
    balance      bigint not null default 0 check (balance >= 0),
    updated_at   timestamptz not null default now()
);

-- bank_requests keeps the transaction services' requests too (one requestNo space for both, so that
-- /service/query answers for all): final at once, with their result JSON in `notification`; they
-- have no form token, and CONFIRM_LOAN / CONFIRM_REPAYMENT name no user of their own.
alter table bank_requests drop constraint bank_requests_service_name_check;
alter table bank_requests add constraint bank_requests_service_name_check check (service_name in (
    'PERSONAL_REGISTER', 'RECHARGE', 'WITHDRAW', 'CREATE_PROJECT', 'MODIFY_PROJECT', 'USER_AUTO_PRE_TRANSACTION',
    'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT'));
alter table bank_requests alter column user_no drop not null;
alter table bank_requests alter column form_token drop not null;
alter table bank_requests add constraint bank_requests_gateway_shape check (
    (service_name in ('PERSONAL_REGISTER', 'RECHARGE', 'WITHDRAW')) = (form_token is not null and user_no is not null));

create table projects (
    project_no      text primary key check (project_no ~ '^[A-Za-z0-9_-]{1,64}$'),
    request_no      text not null unique references bank_requests (request_no),
    user_no         text not null references bank_users (user_no),  -- the borrower
    project_amount  bigint not null check (project_amount > 0),
    project_name    text not null check (char_length(project_name) between 1 and 100),
    project_period  integer not null check (project_period between 1 and 360),
    annual_rate     numeric(7, 6) not null check (annual_rate between 0 and 1),
    repayment_way   text not null check (repayment_way in ('FIXED_REPAYMENT', 'FIXED_CAPITAL')),
    status          text not null default 'COLLECTING'
                    check (status in ('COLLECTING', 'FULLY', 'REPAYING', 'MISCARRY', 'CLEARED')),
    -- what TENDER freezes of the project still hold, and what confirmed loans moved to the borrower:
    -- together never more than the project's amount
    raising         bigint not null default 0 check (raising >= 0),
    loaned          bigint not null default 0 check (loaned >= 0),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check (raising + loaned <= project_amount)
);
create index projects_user_no on projects (user_no);

-- A freeze (USER_AUTO_PRE_TRANSACTION): FROZEN holds its whole amount; a CONFIRM_LOAN or
-- CONFIRM_REPAYMENT makes it USED, a CANCEL_PRE_TRANSACTION CANCELLED, both holding nothing after.
create table pre_transactions (
    request_no  text primary key references bank_requests (request_no),
    project_no  text not null references projects (project_no),
    user_no     text not null references bank_users (user_no),
    biz_type    text not null check (biz_type in ('TENDER', 'REPAYMENT')),
    amount      bigint not null check (amount > 0),
    remaining   bigint not null check (remaining >= 0 and remaining <= amount),
    state       text not null default 'FROZEN' check (state in ('FROZEN', 'USED', 'CANCELLED')),
    settled_by  text references bank_requests (request_no),  -- the confirmation or cancel that ended it
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    check ((state = 'FROZEN') = (settled_by is null)),
    check (state <> 'FROZEN' or remaining = amount),
    check (state = 'FROZEN' or remaining = 0)
);
create index pre_transactions_held_by_user on pre_transactions (user_no) where remaining > 0;
create index pre_transactions_raising on pre_transactions (project_no) where remaining > 0 and biz_type = 'TENDER';
create index pre_transactions_lenders on pre_transactions (project_no, user_no) where state = 'USED';

-- Statement lines of the transaction services: the same table, one line per request that moved money,
-- with what the line's own fields cannot say (the project, the freeze, the confirmation's details).
alter table bank_transactions drop constraint bank_transactions_service_name_check;
alter table bank_transactions add constraint bank_transactions_service_name_check check (service_name in (
    'RECHARGE', 'WITHDRAW', 'USER_AUTO_PRE_TRANSACTION', 'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN',
    'CONFIRM_REPAYMENT'));
alter table bank_transactions
    add column frozen_balance_after bigint not null default 0 check (frozen_balance_after >= 0),
    add column project_no text,
    add column biz_type text check (biz_type in ('TENDER', 'REPAYMENT')),
    add column pre_request_no text,
    add column details jsonb check (details is null or jsonb_typeof(details) = 'array');

-- At commit, a user's frozen balance is what their pre-transactions still hold, and a project's
-- raising what its TENDER freezes still hold (deferred: a movement changes both sides in one transaction).
create function bank_check_held() returns trigger language plpgsql as $$
declare
    user_list text[] := '{}';
    project_list text[] := '{}';
    item text;
    held bigint;
    recorded bigint;
begin
    if tg_table_name = 'bank_users' then
        user_list := array[new.user_no];
    elsif tg_table_name = 'projects' then
        project_list := array[new.project_no];
    else
        user_list := array[new.user_no];
        project_list := array[new.project_no];
        if tg_op = 'UPDATE' then
            user_list := user_list || old.user_no;
            project_list := project_list || old.project_no;
        end if;
    end if;
    foreach item in array user_list loop
        select coalesce(sum(remaining), 0) into held from pre_transactions where user_no = item and remaining > 0;
        select frozen_balance into recorded from bank_users where user_no = item;
        if recorded is distinct from held then
            raise exception 'frozen balance of % is %, but its pre-transactions hold %', item, recorded, held
                using errcode = 'check_violation';
        end if;
    end loop;
    foreach item in array project_list loop
        select coalesce(sum(remaining), 0) into held from pre_transactions
         where project_no = item and remaining > 0 and biz_type = 'TENDER';
        select raising into recorded from projects where project_no = item;
        if recorded is distinct from held then
            raise exception 'project % is raising %, but its TENDER freezes hold %', item, recorded, held
                using errcode = 'check_violation';
        end if;
    end loop;
    return null;
end $$;

create constraint trigger bank_users_frozen_held after insert or update of frozen_balance on bank_users
    deferrable initially deferred for each row execute function bank_check_held();
create constraint trigger projects_raising_held after insert or update of raising on projects
    deferrable initially deferred for each row execute function bank_check_held();
create constraint trigger pre_transactions_held after insert or update on pre_transactions
    deferrable initially deferred for each row execute function bank_check_held();

-- Business time: the day of package limits and expiry, and the start/end of record queries.
-- China Standard Time unless the database sets another zone:
--   ALTER DATABASE .. SET beanpay.business_timezone = 'UTC'.
-- Stable SQL functions, so that the planner inlines them.

create or replace function ledger_timezone() returns text language sql stable as $$
    select coalesce(nullif(current_setting('beanpay.business_timezone', true), ''), 'Asia/Shanghai')
$$;

create or replace function ledger_day(t timestamptz) returns date language sql stable as $$
    select (t at time zone ledger_timezone())::date
$$;

-- A local business time (as callers give start/end) as a moment.
create or replace function ledger_local(t timestamp) returns timestamptz language sql stable as $$
    select t at time zone ledger_timezone()
$$;

create or replace function ledger_today() returns date language sql stable as $$
    select ledger_day(now())
$$;

-- A moment as the API answers it: UTC, ISO 8601 with microseconds.
create or replace function ledger_time(t timestamptz) returns text language sql stable as $$
    select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

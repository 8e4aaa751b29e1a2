-- The original design's two tables. char(n) pads with spaces, so values are validated to carry
-- no surrounding whitespace and are trimmed (rtrim) whenever they are read back.

create table bank_customers (
    id uuid primary key default gen_random_uuid(),
    openid char(25) not null check (octet_length(rtrim(openid)) between 1 and 25),
    cust_id char(16) not null check (char_length(rtrim(cust_id)) = 16),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted boolean not null default false
);
-- One live binding per openid and per bank customer: a wallet never silently changes hands.
create unique index bank_customers_openid_live on bank_customers (openid) where not deleted;
create unique index bank_customers_cust_id_live on bank_customers (cust_id) where not deleted;

create table bank_netsave (
    id uuid primary key default gen_random_uuid(),
    cust_id char(16) not null check (char_length(rtrim(cust_id)) = 16),
    ord_id char(30) not null unique check (char_length(rtrim(ord_id)) >= 1),
    data json not null,
    done boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted boolean not null default false
);
-- The crediting worker's queue: rows still to process, oldest attempt first.
create index bank_netsave_pending on bank_netsave (updated_at) where not done and not deleted;
create index bank_netsave_cust_id on bank_netsave (cust_id);

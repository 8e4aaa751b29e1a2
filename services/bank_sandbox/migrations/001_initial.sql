-- The sandbox bank's own books: wanxin users and requests, Huifu customers and orders,
-- statement lines, and the outbox of notifications with every delivery attempt.

create table bank_users (
    user_no        text primary key,
    fullname       text not null,
    id_number      text not null,
    mobile         text not null,
    bank_code      text not null,
    card_number    text not null,
    role           text not null,
    password_hash  text not null,
    card_balance   bigint not null check (card_balance >= 0),
    bank_balance   bigint not null default 0 check (bank_balance >= 0),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

create table bank_requests (
    request_no     text primary key,
    service_name   text not null check (service_name in ('PERSONAL_REGISTER', 'RECHARGE', 'WITHDRAW')),
    platform_no    text not null,
    user_no        text not null,
    payload        jsonb not null,
    amount         bigint check (amount > 0),
    commission     bigint check (commission >= 0),
    status         smallint not null default 0 check (status in (0, 1, 2)),
    resp_code      text,
    resp_msg       text,
    notification   jsonb,
    form_token     text not null,
    created_at     timestamptz not null default now(),
    confirmed_at   timestamptz,
    check ((status = 0) = (confirmed_at is null))
);
create index bank_requests_user_no on bank_requests (user_no);

-- One line per successful money movement (recharge: card -> bank, withdraw: bank -> card).
create table bank_transactions (
    id                  bigserial primary key,
    request_no          text not null unique references bank_requests (request_no),
    platform_no         text not null,
    service_name        text not null check (service_name in ('RECHARGE', 'WITHDRAW')),
    user_no             text not null references bank_users (user_no),
    amount              bigint not null check (amount > 0),
    commission          bigint not null default 0 check (commission >= 0),
    card_balance_after  bigint not null check (card_balance_after >= 0),
    bank_balance_after  bigint not null check (bank_balance_after >= 0),
    created_at          timestamptz not null default now()
);
create index bank_transactions_created_at on bank_transactions (platform_no, created_at);

create table huifu_customers (
    usr_cust_id    char(16) primary key,
    usr_id         text not null unique check (octet_length(usr_id) between 1 and 25),
    usr_name       text not null default '',
    card_balance   bigint not null check (card_balance >= 0),
    huifu_balance  bigint not null default 0 check (huifu_balance >= 0),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

create table huifu_orders (
    trx_id         char(18) primary key,
    cmd_id         text not null check (cmd_id in ('UserRegister', 'NetSave')),
    usr_id         text,
    usr_cust_id    char(16),
    ord_id         text unique check (char_length(ord_id) <= 30),
    amount         bigint check (amount > 0),
    resp_code      text not null,
    resp_desc      text not null,
    fields         jsonb not null,
    page_url       text not null,
    created_at     timestamptz not null default now()
);
create index huifu_orders_usr_id on huifu_orders (usr_id) where cmd_id = 'UserRegister';

-- Outgoing notifications (transactional outbox): written in the same transaction as the
-- business change, sent by the notifier until the receiver gives the exact expected reply.
create table deliveries (
    id               bigserial primary key,
    target           text not null check (target in ('depository-agent', 'bank-callback')),
    path             text not null,
    encoding         text not null check (encoding in ('query', 'form')),
    reference        text not null,
    params           jsonb not null,
    expected_reply   text not null,
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    delivered        boolean not null default false,
    delivered_at     timestamptz,
    drops_left       integer not null default 0 check (drops_left >= 0),
    duplicates_left  integer not null default 0 check (duplicates_left >= 0),
    last_status      integer,
    last_answer      text,
    last_error       text,
    created_at       timestamptz not null default now()
);
create index deliveries_due on deliveries (next_attempt_at) where not delivered or duplicates_left > 0;
create index deliveries_reference on deliveries (reference);

create table delivery_attempts (
    id           bigserial primary key,
    delivery_id  bigint not null references deliveries (id),
    attempt      integer not null,
    kind         text not null check (kind in ('send', 'drop', 'duplicate')),
    http_status  integer,
    answer       text,
    error        text,
    accepted     boolean not null,
    elapsed_ms   integer not null default 0,
    created_at   timestamptz not null default now()
);
create index delivery_attempts_delivery on delivery_attempts (delivery_id, id);

-- Fault knobs set through POST /sandbox/faults; absent row = the configuration's values.
create table fault_settings (
    id          smallint primary key default 1 check (id = 1),
    settings    jsonb not null,
    updated_at  timestamptz not null default now()
);

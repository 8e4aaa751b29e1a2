-- depository-agent: signed requests to the bank, their results, the outbox and the exception desk.

create table depository_record (
    id              bigserial primary key,
    request_no      text not null unique check (request_no ~ '^REQ_[0-9A-F]{32}$'),
    request_type    text not null check (request_type in ('CONSUMER_CREATE', 'RECHARGE', 'WITHDRAW')),
    service_name    text not null check (service_name in ('PERSONAL_REGISTER', 'RECHARGE', 'WITHDRAW')),
    object_type     text not null,
    object_id       text not null,
    user_no         text not null check (user_no ~ '^USR_[0-9A-F]{32}$'),
    amount          bigint check (amount > 0),           -- fen; RECHARGE and WITHDRAW only
    commission      bigint check (commission >= 0),      -- fen; WITHDRAW only
    request_status  smallint not null default 0 check (request_status in (0, 1, 2)),
    request_data    jsonb not null,                      -- the JSON that is signed and sent
    response_data   jsonb,                               -- the bank's result as received
    result_source   text check (result_source in ('NOTIFICATION', 'QUERY', 'EXPIRED')),
    confirm_date    timestamptz,
    next_check_at   timestamptz,                         -- compensation: not queried again before
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    check ((request_status = 0) = (confirm_date is null)),
    check ((request_type = 'CONSUMER_CREATE') = (amount is null))
);
create index depository_record_pending on depository_record (created_at) where request_status = 0;

-- Everything an operator must look at: conflicting bank results and failed compensation checks.
create table depository_exception (
    id              bigserial primary key,
    request_no      text not null,
    kind            text not null check (kind in ('CONFLICTING_RESULT', 'COMPENSATION_FAILED')),
    reason          text not null,
    detail          jsonb not null default '{}',
    attempts        integer not null default 1,
    next_attempt_at timestamptz not null default now(),
    resolved_at     timestamptz,
    resolution      text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create unique index depository_exception_open on depository_exception (request_no, kind) where resolved_at is null;

-- The transactional outbox (layout documented in shared/outbox.py).
create table outbox (
    id           bigserial primary key,
    exchange     text not null,
    routing_key  text not null,
    message_id   text not null unique,
    content_type text not null default 'application/json',
    headers      jsonb not null default '{}',
    body         text not null,
    created_at   timestamptz not null default now(),
    sent_at      timestamptz
);
create index outbox_pending on outbox (id) where sent_at is null;

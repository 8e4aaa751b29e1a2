-- Users, their depository (bank) accounts, recharge/withdraw records, and notification anomalies.

create table consumer (
    id                  bigserial primary key,
    user_no             char(36) not null unique check (user_no ~ '^USR_[0-9A-F]{32}$'),
    mobile              varchar(11) not null unique,
    username            varchar(32),
    password_hash       text not null,
    depository_status   varchar(8) not null default 'NONE'
                        check (depository_status in ('NONE', 'PENDING', 'OPENED', 'FAILED')),
    -- the latest account-opening attempt; only its failure turns the status to FAILED
    register_request_no char(36),
    -- the bank card bound when the account was opened
    bank_code           varchar(20),
    bank_name           varchar(64),
    card_number         varchar(19),
    card_mobile         varchar(11),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

-- One row per account-opening attempt (PERSONAL_REGISTER request), so a late result of an old
-- attempt is applied to that attempt only.
create table depository_register (
    id              bigserial primary key,
    request_no      char(36) not null unique check (request_no ~ '^REQ_[0-9A-F]{32}$'),
    user_no         char(36) not null references consumer (user_no),
    fullname        varchar(50) not null,
    bank_code       varchar(20) not null,
    card_number     varchar(19) not null,
    mobile          varchar(11) not null,
    role            char(1) not null check (role in ('I', 'B')),
    callback_status smallint not null default 0 check (callback_status in (0, 1, 2)),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index depository_register_user on depository_register (user_no);

create table recharge_record (
    id              bigserial primary key,
    request_no      char(36) not null unique check (request_no ~ '^REQ_[0-9A-F]{32}$'),
    user_no         char(36) not null references consumer (user_no),
    amount          bigint not null check (amount > 0),
    callback_status smallint not null default 0 check (callback_status in (0, 1, 2)),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index recharge_record_user_newest on recharge_record (user_no, created_at desc, id desc);

create table withdraw_record (
    id              bigserial primary key,
    request_no      char(36) not null unique check (request_no ~ '^REQ_[0-9A-F]{32}$'),
    user_no         char(36) not null references consumer (user_no),
    amount          bigint not null check (amount > 0),
    commission      bigint not null default 0 check (commission >= 0),
    callback_status smallint not null default 0 check (callback_status in (0, 1, 2)),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index withdraw_record_user_newest on withdraw_record (user_no, created_at desc, id desc);

-- Bank results that were not applied: a conflicting outcome for a final record, an unknown
-- requestNo, an amount that differs from the record. Kept for an operator; one row per distinct
-- (reason, payload), counting repeats.
create table gateway_notify_anomaly (
    id           bigserial primary key,
    fingerprint  char(64) not null unique,
    message_id   text,
    service_name text,
    request_no   text,
    reason       text not null,
    payload      jsonb not null,
    occurrences  integer not null default 1,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now()
);

-- One row per bank transaction (TrxId) accepted by a background callback, with the signed fields it
-- carried: the same TrxId with other signed fields is never applied, but recorded in huifu_anomaly.
create table huifu_transaction (
    trx_id varchar(18) primary key check (trx_id ~ '^[0-9]{1,18}$'),
    cmd_id text not null check (cmd_id in ('UserRegister', 'NetSave')),
    signed jsonb not null,
    created_at timestamptz not null default now()
);

-- Signed callbacks refused because they contradict what is stored (or cannot be read one way only),
-- kept for an operator: `python -m bank_callback anomalies list`. A repeat of the same one counts up.
create table huifu_anomaly (
    id bigint generated always as identity primary key,
    kind text not null,
    trx_id text not null,
    cmd_id text not null,
    detail text not null,
    fields jsonb not null,
    fingerprint text not null unique,
    occurrences integer not null default 1,
    first_seen timestamptz not null default now(),
    last_seen timestamptz not null default now(),
    resolved_at timestamptz
);
create index huifu_anomaly_open on huifu_anomaly (first_seen) where resolved_at is null;


-- Service packages: a capacity (a count of uses) per account and spkg_id, with the same
-- database-enforced rules as the wallet (sql/06_packages.sql):
--   * total_remain = sum of the package's record nums; total_remain >= 0;
--   * deduct_today <= capacity_daily (reset when the business day changes);
--   * no deduct after expires; a trade_no applied once per (package, change_type);
--   * a refund never exceeds its deduct; records are append-only.

create table package (
    package_id     bigserial primary key,
    account_id     bigint      not null references account (account_id),
    spkg_id        text        not null check (length(spkg_id) between 1 and 64),
    name           text        not null check (length(name) <= 128),
    total_capacity bigint      not null default 0 check (total_capacity >= 0),
    total_remain   bigint      not null default 0 check (total_remain >= 0),
    capacity_daily bigint      check (capacity_daily > 0),  -- null: no daily limit
    deduct_today   bigint      not null default 0 check (deduct_today >= 0),
    deduct_date    date,
    expires        date        not null,
    create_time    timestamptz not null default now(),
    constraint package_once unique (account_id, spkg_id),
    constraint package_daily_limit check (capacity_daily is null or deduct_today <= capacity_daily)
);

create table package_record (
    record_id   bigserial primary key,
    package_id  bigint      not null references package (package_id),
    trade_no    text        not null check (length(trade_no) between 1 and 64),
    change_type smallint    not null check (change_type in (0, 1, 2, 3)),  -- 0 opening, 1 add, 2 deduct, 3 refund
    num         bigint      not null,
    remain      bigint      not null,
    refunded    bigint      not null default 0,
    create_time timestamptz not null default now(),
    constraint package_record_once unique (package_id, change_type, trade_no),
    constraint package_record_num_sign check (
        (change_type = 2 and num < 0) or (change_type in (0, 1, 3) and num > 0)),
    constraint package_record_refund_within_deduct check (
        refunded >= 0 and (refunded = 0 or (change_type = 2 and refunded <= -num)))
);
create index package_record_by_package on package_record (package_id, record_id desc);

-- Borrowers that lending finds or creates by mobile (POST /internal/consumers): their real name and ID
-- number, and no password until they set one (they sign in through one-time links meanwhile).
alter table consumer alter column password_hash drop not null,
    add column fullname  varchar(50),
    add column id_number varchar(18) check (id_number ~ '^([0-9]{17}[0-9X]|[0-9]{15})$');

-- One-time open-account links (POST /internal/open-account-links). Only the SHA-256 of the link's token
-- is kept; the link is used at most once (used_at) and not after expires_at.
create table open_account_link (
    id          bigserial primary key,
    token_hash  char(64) not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
    user_no     char(36) not null references consumer (user_no),
    fullname    varchar(50) not null,
    id_number   varchar(18) not null,
    mobile      varchar(11) not null,
    bank_code   varchar(20) not null,
    card_number varchar(19) not null,
    role        char(1) not null check (role in ('I', 'B')),
    expires_at  timestamptz not null,
    used_at     timestamptz,
    created_at  timestamptz not null default now(),
    check (expires_at > created_at and expires_at <= created_at + interval '30 minutes')
);
create index open_account_link_user on open_account_link (user_no);

-- A request's expired (from its signed fields): confirmations after it are refused, and a query
-- closes a request still pending after it. Null for requests recorded before requests carried it.
alter table bank_requests add column expires_at timestamptz;

-- Wrong transaction passwords in a row, and the lock they set, per depository user.
alter table bank_users add column failed_passwords integer not null default 0 check (failed_passwords >= 0),
    add column locked_until timestamptz;

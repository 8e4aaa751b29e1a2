-- A message the broker returns as unroutable stays pending, counted and delayed (shared/outbox.py).
alter table outbox add column returned integer not null default 0,
    add column retry_at timestamptz,
    add column last_error text;

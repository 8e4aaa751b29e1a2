-- Every signed request carries timestamp and expired (yyyyMMddHHmmss, UTC+8); expires_at is that
-- instant, which compensation waits for before it may fail a request the bank does not know.
-- Requests signed before they carried the times get the default 1800 s after their creation; a row
-- inserted without the column (a bulk load) expires 1800 s after its insertion.
alter table depository_record add column expires_at timestamptz;
update depository_record set expires_at = date_trunc('second', created_at) + interval '1800 seconds',
    request_data = request_data || jsonb_build_object(
        'timestamp', to_char(date_trunc('second', created_at) at time zone 'UTC' + interval '8 hours', 'YYYYMMDDHH24MISS'),
        'expired', to_char(date_trunc('second', created_at) at time zone 'UTC' + interval '8 hours 1800 seconds',
                           'YYYYMMDDHH24MISS'))
    where expires_at is null;
alter table depository_record alter column expires_at set default now() + interval '1800 seconds',
    alter column expires_at set not null;

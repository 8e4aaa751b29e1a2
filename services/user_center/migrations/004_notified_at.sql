-- When the consumer applied the bank's result to the request (null while pending, and for requests
-- failed by user-center itself because they never reached the bank): counts the notifications
-- applied, and dates them.
alter table depository_register add column notified_at timestamptz;
alter table recharge_record add column notified_at timestamptz;
alter table withdraw_record add column notified_at timestamptz;

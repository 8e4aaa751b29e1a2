-- The sweep of requests that never reached the agent looks for old pending recharges and
-- account-opening attempts too (withdraws: 002).
create index recharge_record_pending on recharge_record (created_at) where callback_status = 0;
create index depository_register_pending on depository_register (created_at) where callback_status = 0;

-- The outcome a request is being settled with while its ledger calls are made (1 success, 2 failure),
-- null when none. It is claimed in one short transaction under the row's lock, the ledger is called
-- with no transaction open, and the outcome is written in a second transaction, which clears it. From
-- the claim on the request is decided: the other outcome is an anomaly, a withdraw being paid keeps its
-- hold and a withdraw whose hold is being released can no longer be paid (docs/user_center.md, "No
-- remote call under a row lock").
alter table depository_register add column applying_status smallint check (applying_status in (1, 2)),
    add constraint depository_register_applying_while_pending check (applying_status is null or callback_status = 0);
alter table recharge_record add column applying_status smallint check (applying_status in (1, 2)),
    add constraint recharge_record_applying_while_pending check (applying_status is null or callback_status = 0);
alter table withdraw_record add column applying_status smallint check (applying_status in (1, 2)),
    add constraint withdraw_record_applying_while_pending check (applying_status is null or callback_status = 0);

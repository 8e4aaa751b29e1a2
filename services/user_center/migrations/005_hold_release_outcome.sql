-- How a withdraw hold's release row was closed (released_at): "refund" (the hold was there and is
-- refunded), "void" (it never landed, and the ledger now refuses it for good), or "kept" (the bank paid
-- the withdraw meanwhile: the hold is its debit and stays; alerted). Rows closed before this column
-- existed have none.
alter table withdraw_hold_release add column outcome text check (outcome in ('refund', 'void', 'kept'));

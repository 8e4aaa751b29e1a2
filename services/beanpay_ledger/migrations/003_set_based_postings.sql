-- Postings applied set-wise (sql/03_account_records.sql, sql/04_postings.sql): one statement trigger
-- checks and applies all of a statement's records, and refuses records of an unknown account, so the
-- per-row foreign key check gives way to it; accounts are never deleted.

alter table account_record drop constraint account_record_account_id_fkey;

comment on column account_record.balance is
    'the balance after this record; account_record_settle refuses any other value';

-- Balance updates leave room on the page (HOT updates: no index entries for a new row version).
alter table account set (fillfactor = 70);

-- Daily reconciliation selects the records created or confirmed on one day.
create index depository_record_created on depository_record (created_at);
create index depository_record_confirmed on depository_record (confirm_date) where confirm_date is not null;

-- Trade numbers up to 128 characters: a repayment's is <requestNo>:<userNo> (73). Identifiers (eid, spkg_id)
-- stay within 64.

alter table account_record drop constraint account_record_trade_no_check,
    add constraint account_record_trade_no_check check (length(trade_no) between 1 and 128);
alter table package_record drop constraint package_record_trade_no_check,
    add constraint package_record_trade_no_check check (length(trade_no) between 1 and 128);
alter table deduct_release drop constraint deduct_release_trade_no_check,
    add constraint deduct_release_trade_no_check check (length(trade_no) between 1 and 128);

-- The transaction services of section 9 (projects, freezes, cancels, loans, repayments): their records,
-- answered by the bank at once (result_source ANSWER). request_type is the bank's serviceName for them.
-- amount: CREATE_PROJECT its projectAmount, a freeze or a cancel its amount, CONFIRM_LOAN the sum of its
-- details, CONFIRM_REPAYMENT the sum of its details' amount + interest; commission: the confirmations'.
-- Only the services that name a user carry user_no.
alter table depository_record
    drop constraint depository_record_request_type_check,
    drop constraint depository_record_service_name_check,
    drop constraint depository_record_user_no_check,
    drop constraint depository_record_result_source_check,
    drop constraint depository_record_check1,
    alter column user_no drop not null,
    add constraint depository_record_request_type_check check (request_type in (
        'CONSUMER_CREATE', 'RECHARGE', 'WITHDRAW', 'CREATE_PROJECT', 'MODIFY_PROJECT', 'USER_AUTO_PRE_TRANSACTION',
        'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')),
    add constraint depository_record_service_name_check check (service_name in (
        'PERSONAL_REGISTER', 'RECHARGE', 'WITHDRAW', 'CREATE_PROJECT', 'MODIFY_PROJECT', 'USER_AUTO_PRE_TRANSACTION',
        'CANCEL_PRE_TRANSACTION', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')),
    add constraint depository_record_user_no_check check (
        user_no ~ '^USR_[0-9A-F]{32}$'
        and request_type not in ('MODIFY_PROJECT', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')
        or user_no is null and request_type in ('MODIFY_PROJECT', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT')),
    add constraint depository_record_result_source_check check (
        result_source in ('NOTIFICATION', 'QUERY', 'EXPIRED', 'ANSWER')),
    add constraint depository_record_amount_kind_check check (
        (request_type in ('CONSUMER_CREATE', 'MODIFY_PROJECT')) = (amount is null)),
    add constraint depository_record_commission_kind_check check (
        commission is null or request_type in ('WITHDRAW', 'CONFIRM_LOAN', 'CONFIRM_REPAYMENT'));

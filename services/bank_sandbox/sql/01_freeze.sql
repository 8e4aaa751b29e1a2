-- USER_AUTO_PRE_TRANSACTION in one round trip (bank_sandbox.transaction_services): the per-requestNo
-- lock, the recorded request if any, the expiry at the database's clock, the request's record, the
-- freeze with its refusals, the result and the fault knobs, as the statements of the generic path
-- would do them one by one. A refusal changes nothing but the request's record: every check is made
-- on locked rows before the first balance moves.

-- fen as a yuan text with two decimals, as shared.money.format_fen (never negative here)
create or replace function bank_yuan(fen bigint) returns text
language sql immutable as $$ select (fen / 100)::text || '.' || lpad((fen % 100)::text, 2, '0') $$;

create or replace function bank_freeze(
    p_request_no text, p_platform_no text, p_user_no text, p_payload jsonb, p_expires_at timestamptz,
    p_project_no text, p_amount bigint, p_biz_type text,
    out outcome text,      -- 'recorded' (see recorded), 'expired' (nothing recorded) or 'answered'
    out checked_at timestamptz, out recorded jsonb, out resp_code text, out resp_msg text, out faults jsonb)
language plpgsql as $$
declare
    tender constant boolean := p_biz_type = 'TENDER';
    project projects;
    balances record;
begin
    perform pg_advisory_xact_lock(hashtext('bank_requests'), hashtext(p_request_no));
    select to_jsonb(r) into recorded from bank_requests r where r.request_no = p_request_no;
    if found then
        outcome := 'recorded';
        return;
    end if;
    checked_at := clock_timestamp();
    if checked_at > p_expires_at then
        outcome := 'expired';
        return;
    end if;
    insert into bank_requests (request_no, service_name, platform_no, user_no, payload, expires_at)
    values (p_request_no, 'USER_AUTO_PRE_TRANSACTION', p_platform_no, p_user_no, p_payload, p_expires_at)
    on conflict (request_no) do nothing;
    if not found then  -- recorded by the gateway meanwhile
        select to_jsonb(r) into recorded from bank_requests r where r.request_no = p_request_no;
        outcome := 'recorded';
        return;
    end if;
    outcome := 'answered';
    resp_code := '00000';
    resp_msg := 'success';
    <<freeze>>
    begin
        if tender then
            select * into project from projects where project_no = p_project_no for no key update;
        else
            select * into project from projects where project_no = p_project_no;
        end if;
        if not found then
            resp_code := '00003';
            resp_msg := format('unknown projectNo %s: create the project first', p_project_no);
            exit freeze;
        end if;
        if tender then
            if p_user_no = project.user_no then
                resp_code := '00003';
                resp_msg := format('userNo %s is the project''s borrower: a borrower cannot tender', p_user_no);
                exit freeze;
            end if;
            if project.status not in ('COLLECTING', 'FULLY') then
                resp_code := '00003';
                resp_msg := format('project %s is %s: it raises no money', project.project_no, project.status);
                exit freeze;
            end if;
            perform from bank_users where user_no = p_user_no;
            if not found then
                resp_code := '00003';
                resp_msg := format('userNo %s has no depository account', p_user_no);
                exit freeze;
            end if;
            if project.raising + p_amount + project.loaned > project.project_amount then
                resp_code := '30050';
                resp_msg := format('the project''s tenders would exceed its amount of %s (lent %s, frozen %s)',
                                   bank_yuan(project.project_amount), bank_yuan(project.loaned),
                                   bank_yuan(project.raising));
                exit freeze;
            end if;
        elsif p_user_no <> project.user_no then
            resp_code := '00003';
            resp_msg := format('userNo %s is not the borrower of project %s', p_user_no, project.project_no);
            exit freeze;
        end if;
        update bank_users set bank_balance = bank_balance - p_amount, frozen_balance = frozen_balance + p_amount,
                              updated_at = now()
        where user_no = p_user_no and bank_balance - p_amount >= 0
        returning card_balance, bank_balance, frozen_balance into balances;
        if not found then
            resp_code := '30042';
            resp_msg := format('available balance insufficient for %s', bank_yuan(p_amount));
            exit freeze;
        end if;
        if tender then  -- checked above on the locked row
            update projects set raising = raising + p_amount, updated_at = now() where project_no = p_project_no;
        end if;
        insert into pre_transactions (request_no, project_no, user_no, biz_type, amount, remaining)
        values (p_request_no, p_project_no, p_user_no, p_biz_type, p_amount, p_amount);
        insert into bank_transactions (request_no, platform_no, service_name, user_no, amount, commission,
                                       card_balance_after, bank_balance_after, frozen_balance_after, project_no,
                                       biz_type)
        values (p_request_no, p_platform_no, 'USER_AUTO_PRE_TRANSACTION', p_user_no, p_amount, 0,
                balances.card_balance, balances.bank_balance, balances.frozen_balance, p_project_no, p_biz_type);
    end freeze;
    update bank_requests
    set status = case when bank_freeze.resp_code = '00000' then 1 else 2 end, resp_code = bank_freeze.resp_code,
        resp_msg = bank_freeze.resp_msg, confirmed_at = now(),
        notification = jsonb_build_object('requestNo', p_request_no, 'respCode', bank_freeze.resp_code,
                                          'respMsg', bank_freeze.resp_msg,
                                          'status', case when bank_freeze.resp_code = '00000' then 1 else 2 end)
    where request_no = p_request_no and status = 0;
    select settings into faults from fault_settings where id = 1;
end
$$;

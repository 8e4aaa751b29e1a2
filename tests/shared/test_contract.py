"""The gateway-notify message, defined once in shared.contract: what the agent publishes and user-center reads."""
import json

import pytest
from hypothesis import given, strategies as st

from shared.contract import (CONFIRM_LOAN, EXPIRED_CODE, EXPIRY_FIELDS, PERSONAL_REGISTER, PRE_TRANSACTION, RECHARGE,
                             RESULT_FIELDS, RESULT_SERVICES, WITHDRAW, InvalidResult, check_result, parse_message, result_message_id)
from shared.money import format_fen

REQUEST_NO = "REQ_" + "0123456789ABCDEF" * 2


def bank_result(service: str, success: bool = True, amount: str = "100.00") -> dict:
    result = {"requestNo": REQUEST_NO, "respCode": "00000" if success else "10001",
              "respMsg": "success" if success else "declined", "status": 1 if success else 2}
    if service == PERSONAL_REGISTER:
        result.update(bankCode="ICBC", bankName="工商银行")
    else:
        result.update(transactionStatus="SUCCESS" if success else "FAIL", amount=amount)
    return result


def expiry_result(service: str) -> dict:
    result = {"requestNo": REQUEST_NO, "respCode": EXPIRED_CODE, "respMsg": "the bank never received this request",
              "status": 2}
    if service != PERSONAL_REGISTER:
        result.update(transactionStatus="FAIL", amount="30.00")
    return result


@pytest.mark.parametrize("service", [PERSONAL_REGISTER, RECHARGE, WITHDRAW])
@pytest.mark.parametrize("success", [True, False])
def test_a_bank_result_reads_as_one_result(service, success):
    result = check_result(service, bank_result(service, success))
    assert (result.service_name, result.request_no, result.status) == (service, REQUEST_NO, 1 if success else 2)
    assert result.amount == (None if service == PERSONAL_REGISTER else 10000)
    assert result.success is success
    assert result.message_id == result_message_id(service, REQUEST_NO) == f"{service}:{REQUEST_NO}"
    assert result.message_body() == {**bank_result(service, success), "serviceName": service}


def test_an_account_opening_without_a_bank_name_is_only_the_agents_expiry_result():
    with pytest.raises(InvalidResult, match="carries exactly its fields"):
        check_result(PERSONAL_REGISTER, expiry_result(PERSONAL_REGISTER))
    with pytest.raises(InvalidResult, match="carries exactly its fields"):  # only as a failure named EXPIRED
        check_result(PERSONAL_REGISTER, {**expiry_result(PERSONAL_REGISTER), "respCode": "10001"}, expiry=True)


@pytest.mark.parametrize("service", [PERSONAL_REGISTER, RECHARGE, WITHDRAW])
def test_the_agents_expiry_result_is_a_message(service):
    result = check_result(service, expiry_result(service), expiry=True)
    assert result.status == 2 and set(result.fields) == EXPIRY_FIELDS[service]
    assert parse_message(json.dumps(result.message_body()).encode()) == result


def _changed(service: str, **changes) -> dict:
    result = bank_result(service)
    for name, value in changes.items():
        if value is None:
            result.pop(name)
        else:
            result[name] = value
    return result


_LOAN_RESULT = {"requestNo": REQUEST_NO, "respCode": "00000", "respMsg": "success", "status": 1}


@pytest.mark.parametrize("service,fields,reason", [
    ("NOPE", bank_result(RECHARGE), "serviceName"),
    (RECHARGE, _changed(RECHARGE, bankCode="ICBC"), "bankCode"),          # a field of another service
    (RECHARGE, _changed(RECHARGE, note="x"), "note"),                     # an unknown field
    (RECHARGE, _changed(RECHARGE, respMsg=None), "respMsg"),              # a missing one
    (PERSONAL_REGISTER, _changed(PERSONAL_REGISTER, amount="1.00"), "amount"),
    (RECHARGE, _changed(RECHARGE, requestNo=REQUEST_NO.lower()), "requestNo"),
    (RECHARGE, _changed(RECHARGE, requestNo=REQUEST_NO + "\n"), "requestNo"),
    (RECHARGE, _changed(RECHARGE, status="1"), "status"),
    (RECHARGE, _changed(RECHARGE, status=True), "status"),
    (RECHARGE, _changed(RECHARGE, status=1.0), "status"),
    (RECHARGE, _changed(RECHARGE, status=0), "final"),
    (RECHARGE, _changed(RECHARGE, respCode="10001"), "contradicts"),
    (RECHARGE, {**bank_result(RECHARGE, False), "respCode": "00000"}, "contradicts"),
    (RECHARGE, _changed(RECHARGE, transactionStatus="FAIL"), "transactionStatus"),
    (WITHDRAW, _changed(WITHDRAW, amount="40"), "amount"),
    (WITHDRAW, _changed(WITHDRAW, amount="40.0"), "amount"),
    (WITHDRAW, _changed(WITHDRAW, amount="040.00"), "amount"),
    (WITHDRAW, _changed(WITHDRAW, amount=" 40.00"), "amount"),
    (WITHDRAW, _changed(WITHDRAW, amount=40), "amount"),
    (WITHDRAW, _changed(WITHDRAW, amount="0.00"), "amount"),
    (PERSONAL_REGISTER, _changed(PERSONAL_REGISTER, bankName=""), "bankName"),
    (PERSONAL_REGISTER, _changed(PERSONAL_REGISTER, respMsg="x" * 257), "respMsg"),
    (RECHARGE, [], "JSON object"),
    # a transaction service's result carries the four common fields only
    (CONFIRM_LOAN, {**_LOAN_RESULT, "amount": "10.00"}, "amount"),
    (PRE_TRANSACTION, {**_LOAN_RESULT, "bankCode": "ICBC"}, "bankCode"),
    (CONFIRM_LOAN, {**_LOAN_RESULT, "transactionStatus": "SUCCESS"}, "transactionStatus"),
    (CONFIRM_LOAN, {**_LOAN_RESULT, "respCode": "30050"}, "contradicts"),
    (CONFIRM_LOAN, {**_LOAN_RESULT, "status": 0}, "final"),
    ("USER_AUTO_PRE_TRANSACTION ", _LOAN_RESULT, "serviceName"),
])
def test_a_result_that_could_mean_something_else_is_refused(service, fields, reason):
    with pytest.raises(InvalidResult, match=reason):
        check_result(service, fields, expiry=True)


@pytest.mark.parametrize("body,reason", [
    (b"{not json", "JSON"),
    (b"[1]", "JSON object"),
    (b'{"serviceName": "RECHARGE", "serviceName": "WITHDRAW"}', "JSON"),      # a name given twice
    (b'{"status": NaN}', "JSON"),
    (b"\xff", "JSON"),
    (json.dumps(bank_result(RECHARGE)).encode(), "serviceName"),              # no serviceName
])
def test_a_message_is_read_one_way_only(body, reason):
    with pytest.raises(InvalidResult, match=reason):
        parse_message(body)


_NAMES = sorted(set().union(*RESULT_FIELDS.values()) | {"serviceName", "note"})
_VALUES = st.one_of(st.sampled_from([REQUEST_NO, "00000", "10001", EXPIRED_CODE, "SUCCESS", "FAIL", "100.00", "0.01",
                                     "1", "ICBC", "", "100"]),
                    st.integers(-1, 3), st.booleans(), st.none(), st.text(max_size=4))


@given(st.sampled_from(RESULT_SERVICES),
       st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=9), st.booleans())
def test_whatever_is_accepted_means_one_thing(service, fields, expiry):
    """Any object the check accepts has one field set, agreeing success markers and an exact amount, and
    reads back as the same result from the message the agent publishes."""
    try:
        result = check_result(service, fields, expiry=expiry)
    except InvalidResult:
        return
    assert set(fields) in (RESULT_FIELDS[service], EXPIRY_FIELDS[service])
    assert result.status in (1, 2) and (fields["respCode"] == "00000") == (result.status == 1)
    if result.amount is not None:
        assert format_fen(result.amount) == fields["amount"]
    assert parse_message(json.dumps(result.message_body()).encode()) == result


@pytest.mark.parametrize("service", [PRE_TRANSACTION, CONFIRM_LOAN])
def test_a_transaction_services_result_and_the_agents_expiry_result_are_published_as_they_are(service):
    for fields, expiry in ((_LOAN_RESULT, False), ({**_LOAN_RESULT, "respCode": "30042", "status": 2}, False),
                           ({**_LOAN_RESULT, "respCode": EXPIRED_CODE, "status": 2}, True)):
        result = check_result(service, fields, expiry=expiry)
        assert result.amount is None and result.message_id == f"{service}:{REQUEST_NO}"
        assert parse_message(json.dumps(result.message_body()).encode()) == result

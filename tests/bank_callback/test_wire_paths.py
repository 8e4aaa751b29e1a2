"""Every path reads a callback's fields one way: query or form, GET or POST, nothing read twice or guessed.

Raw requests to bank-callback under gunicorn: a name given twice, text that is not UTF-8, another body
type or charset, ChkValue in another spelling are refused and store nothing; the same fields by query
or by form, by GET or by POST, give the same answer.
"""
from urllib.parse import quote, urlencode

import pytest
import requests

from tests.bank_callback.huifu_messages import netsave_fields, new_cust_id, register_fields
from tests.bank_callback.huifu_wire import Variant, send


def _form(fields: dict) -> str:
    return urlencode(fields)


def _without_desc(fields: dict) -> str:
    return _form({name: value for name, value in fields.items() if name != "RespDesc"})


def _refused(answer: tuple[int, str, str], status: int = 400) -> None:
    assert answer[0] == status and "RECV" not in answer[1] and not answer[2], answer


@pytest.fixture
def netsave(sign_netsave):
    return sign_netsave(netsave_fields(new_cust_id(), "100.00", MerPriv="备注 1+1"))


@pytest.mark.parametrize("query, body", [
    pytest.param(lambda f: "", lambda f: _form(f) + "&TransAmt=999.00", id="amount-twice-in-body"),
    pytest.param(lambda f: "", lambda f: _form(f) + "&" + _form({"TransAmt": f["TransAmt"]}), id="same-value-twice"),
    pytest.param(lambda f: _form({"OrdId": "1"}), lambda f: _form(f), id="query-and-body"),
    pytest.param(lambda f: _form({"OrdId": f["OrdId"]}), lambda f: _form(f), id="query-and-body-same-value"),
    pytest.param(lambda f: _form(f), lambda f: _form({"RespDesc": "x"}), id="unsigned-field-twice"),
    pytest.param(lambda f: "", lambda f: _form(f) + "&RespDesc=%FF", id="not-utf8-escape"),
    pytest.param(lambda f: "", lambda f: _without_desc(f) + "&RespDesc=%C4%E3%BA%C3", id="gbk-text"),
    pytest.param(lambda f: "", lambda f: _without_desc(f) + "&RespDesc=a%ED%A0%80", id="lone-surrogate"),
    pytest.param(lambda f: "", lambda f: _form(f) + "&=orphan", id="nameless-parameter"),
    pytest.param(lambda f: "", lambda f: _form({**f, "RespDesc": "a\x00b"}), id="nul"),
    pytest.param(lambda f: "", lambda f: _form({**f, "ChkValue": f["ChkValue"].lower()}), id="lower-case-chkvalue"),
    pytest.param(lambda f: "", lambda f: _form({**f, "ChkValue": f["ChkValue"] + "\n"}), id="chkvalue-newline"),
    pytest.param(lambda f: "", lambda f: _form({**f, "ChkValue": " " + f["ChkValue"]}), id="chkvalue-space"),
    pytest.param(lambda f: "", lambda f: _form({**f, "ChkValue": "00" + f["ChkValue"]}), id="chkvalue-leading-zeros"),
])
def test_ambiguous_or_undecodable_requests_are_refused(server, netsave, stored, query, body):
    _refused(send(server.url, "POST", "/netsave", Variant(query(netsave), body(netsave), None)))
    assert stored("bank_netsave") == []


@pytest.mark.parametrize("content_type, status", [
    ("application/json", 415), ("text/plain", 415), ("multipart/form-data; boundary=x", 415),
    # refused by every service's input rule before the callback reads it
    ("application/x-www-form-urlencoded; charset=gbk", 400)])
def test_a_body_that_is_not_a_utf8_form_is_refused(server, netsave, stored, content_type, status):
    body = _form(netsave).encode()
    answer = requests.post(f"{server.url}/netsave", data=body, headers={"Content-Type": content_type}, timeout=5)
    assert answer.status_code == status, answer.text
    assert stored("bank_netsave") == []


def test_query_form_get_and_post_read_the_same_fields(server, sign_register, stored):
    fields = sign_register(register_fields(MerPriv="a+b c&d=e%f 二"))
    for method, query, body in (("GET", fields, None), ("POST", fields, ""), ("POST", {}, fields),
                                ("POST", {key: fields[key] for key in list(fields)[:4]},
                                 {key: fields[key] for key in list(fields)[4:]})):
        variant = Variant(urlencode(query, quote_via=quote), None if body is None else urlencode(body), None)
        status, _, location = send(server.url, method, "/RegisterCallback", variant)
        assert status == 302 and location.endswith("#/BankUserRegisterCallback?RespCode=000&RespDesc="
                                                   "%E5%BC%80%E6%88%B7%E6%88%90%E5%8A%9F"), (method, status)
    answers = {send(server.url, "POST", "/register", Variant(urlencode(query), urlencode(body), None))[1]
               for query, body in (({}, fields), (fields, {}))}
    assert answers == {f"RECV_ORD_ID_{fields['TrxId']}"}
    assert stored("bank_customers") == [(fields["UsrId"], fields["UsrCustId"], False)]


def test_head_of_a_page_callback_stores_nothing(server, sign_register, stored):
    fields = sign_register(register_fields())
    answer = requests.head(f"{server.url}/RegisterCallback", params=fields, timeout=5)
    assert answer.status_code == 302
    assert stored("bank_customers") == []
    assert requests.head(f"{server.url}/register", params=fields, timeout=5).status_code == 405


@pytest.mark.parametrize("overrides", [
    pytest.param({"OrdId": "１２３"}, id="full-width-ord-id"),
    pytest.param({"OrdId": "١٢٣"}, id="arabic-indic-ord-id"),
    pytest.param({"OrdId": "ORD123"}, id="letters-in-ord-id"),
    pytest.param({"OrdId": " 123"}, id="space-in-ord-id"),
    pytest.param({"TransAmt": "１００.００"}, id="full-width-amount"),
    pytest.param({"TransAmt": "0100.00"}, id="leading-zero-amount"),
    pytest.param({"TransAmt": "100.0"}, id="one-decimal"),
    pytest.param({"TransAmt": "100"}, id="no-decimals"),
    pytest.param({"TransAmt": " 100.00"}, id="space-in-amount"),
    pytest.param({"UsrCustId": "６０００６０００００００００２"}, id="full-width-cust-id"),
    pytest.param({"UsrCustId": "6000060ABC000002"}, id="letters-in-cust-id"),
    pytest.param({"TrxId": "1234567890123456789"}, id="trx-id-19-digits"),
    pytest.param({"TrxId": "TRX123"}, id="letters-in-trx-id"),
    pytest.param({"OrdDate": "20160925"}, id="ord-date-years-ago"),
    pytest.param({"OrdDate": "20261302"}, id="ord-date-not-a-date"),
    pytest.param({"OrdDate": "２０２６１２０２"}, id="ord-date-full-width"),
    pytest.param({"BgRetUrl": "http://127.0.0.1:8003/netsave/"}, id="other-background-url"),
    pytest.param({"RetUrl": "https://evil.example/NetSaveCallback"}, id="other-page-url"),
    pytest.param({"RetUrl": ""}, id="no-page-url"),
    pytest.param({"RespCode": "105"}, id="unknown-resp-code"),
    pytest.param({"RespCode": "00"}, id="short-resp-code"),
    pytest.param({"MerPriv": "a\nb"}, id="control-character-in-mer-priv"),
    pytest.param({"MerPriv": "x" * 121}, id="mer-priv-too-long"),
])
def test_signed_fields_out_of_their_one_format_are_refused(server, sign_netsave, stored, overrides):
    """Genuinely signed, yet not in the field's exact format: refused before the signature counts."""
    fields = sign_netsave(netsave_fields(new_cust_id(), **overrides))
    for method, path in (("POST", "/netsave"), ("GET", "/NetSaveCallback")):
        answer = requests.request(method, f"{server.url}{path}", **({"data": fields} if method == "POST" else
                                                                     {"params": fields}),
                                  allow_redirects=False, timeout=5)
        assert answer.status_code == 400 and answer.json()["code"] == 911, answer.text
    assert stored("bank_netsave") == []


def test_failed_registration_without_customer_is_the_only_empty_cust_id(server, sign_register, stored):
    failed = sign_register(register_fields(RespCode="999", UsrCustId=""))
    assert requests.post(f"{server.url}/register", data=failed, timeout=5).text == \
        f"RECV_ORD_ID_{failed['TrxId']}"
    succeeded = sign_register(register_fields(UsrCustId=""))
    answer = requests.post(f"{server.url}/register", data=succeeded, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == 911
    assert stored("bank_customers") == []


def test_a_flood_of_parameters_is_refused(server, netsave, stored):
    extra = "&".join(f"x{number}=1" for number in range(100))
    _refused(send(server.url, "POST", "/netsave", Variant("", _form(netsave) + "&" + extra, None)))
    assert stored("bank_netsave") == []

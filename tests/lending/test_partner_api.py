"""The partner API: the envelope on every call, each call's answers and refusals (400/1001, 404/1004,
409/1009), and that a refused call stores nothing."""
import hashlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contract import PARTNER_CALLS
from tests.lending.conftest import a_push, approve, borrow_of, id_number, order_status, push, stored

from lending.credit_engine import check_character

@pytest.mark.parametrize("name", PARTNER_CALLS)
@pytest.mark.parametrize("spoil", ["sign", "stale", "future", "app", "missing", "extra", "sign-case"])
def test_every_call_refuses_a_spoilt_envelope_and_stores_nothing(partner, db, name, spoil):
    skew = {"stale": 301_000, "future": -301_000}.get(spoil, 0)
    envelope = partner.envelope(a_push(), int(time.time() * 1000) - skew)
    if spoil == "sign":
        envelope["sign"] = hashlib.md5(b"forged").hexdigest()
    elif spoil == "app":
        envelope["appId"] = "someone-else"
    elif spoil == "missing":
        del envelope["sign"]
    elif spoil == "extra":
        envelope["userId"] = "1"
    elif spoil == "sign-case":
        envelope["sign"] = envelope["sign"].upper()
    before = stored(db)
    status, answer = partner.raw(name, envelope)
    assert (status, answer["code"]) == (400, 1001), answer
    assert stored(db) == before


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe{}", b'{"appId":"rongshu","appId":"x"}', b"[]", b"",
                                  b'{"appId": NaN}'])
def test_a_body_that_is_not_one_strict_json_object_is_refused(client, db, body):
    before = stored(db)
    response = client.post("/rongshu/order/push", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()["code"]) == (400, 1001)
    assert stored(db) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["appId", "timestamp", "bizData", "sign"]),
       value=st.one_of(st.text(max_size=40), st.integers(), st.none(), st.booleans(), st.floats()))
def test_any_other_value_in_any_field_is_refused(partner, db, field, value):
    envelope = partner.envelope(a_push())
    if envelope[field] == value or (field == "timestamp" and str(value) == str(envelope["timestamp"])):
        return
    envelope[field] = value
    before = stored(db)
    status, answer = partner.raw("order/push", envelope)
    assert (status, answer["code"]) == (400, 1001)
    assert stored(db) == before


def test_a_replayed_envelope_within_the_window_creates_nothing_more(partner, db):
    envelope = partner.envelope(a_push())
    first = partner.raw("order/push", envelope)
    before = stored(db)
    assert partner.raw("order/push", envelope) == first
    assert stored(db) == before


VALID_ID = id_number()
WRONG_CHECK = VALID_ID[:17] + "10X98765432"[("10X98765432".index(VALID_ID[17]) + 1) % 11]
NO_SUCH_DAY = "11010519900230001" + check_character("11010519900230001")


@pytest.mark.parametrize("change, problem", [
    ({"idNumber": WRONG_CHECK}, "check digit"), ({"idNumber": VALID_ID[:17] + "x"}, "upper-case x"),
    ({"idNumber": NO_SUCH_DAY}, "birth date"), ({"mobile": "23800138000"}, "mobile"),
    ({"mobile": "1380013800"}, "mobile"), ({"loanAmount": "1000000"}, "loanamount"),
    ({"loanAmount": True}, "loanamount"),
    ({"loanAmount": 0}, "loanamount"), ({"loanTerm": -1}, "loanterm"), ({"name": "a\u0000b"}, "name"),
    ({"name": ""}, "name"), ({"name": " 张三"}, "name"), ({"orderNo": "a/b"}, "orderno"),
    ({"orderNo": "x" * 65}, "orderno"),
])
def test_a_malformed_order_is_refused_with_a_reason(partner, db, change, problem):
    before = stored(db)
    status, answer = partner("order/push", a_push(**change))
    assert (status, answer["code"]) == (400, 1001)
    assert problem in answer["msg"].lower()
    assert stored(db) == before


def _with_raw_biz(partner, biz_data: str) -> dict:
    """An envelope signed over exactly ``biz_data`` (even text json.dumps would never write)."""
    from shared.partner_envelope import signature

    stamp = int(time.time() * 1000)
    return {"appId": "rongshu", "timestamp": stamp, "bizData": biz_data,
            "sign": signature("rongshu", biz_data, stamp, partner.secret)}


def test_a_float_a_repeated_key_or_a_lone_surrogate_in_biz_data_is_refused(partner, db):
    before = stored(db)
    for biz_data in ('{"orderNo":"A1","loanAmount":1000000.0}', '{"orderNo":"A1","orderNo":"A2"}',
                     json.dumps(a_push(name="\ud800"))):
        status, answer = partner.raw("order/push", _with_raw_biz(partner, biz_data))
        assert (status, answer["code"]) == (400, 1001)
    assert stored(db) == before


def test_push_is_idempotent_by_order_no_and_other_content_is_a_conflict(partner, db):
    order = a_push()
    assert partner.ok("order/push", order) == {"orderNo": order["orderNo"], "status": 0}
    assert partner.ok("order/push", order) == {"orderNo": order["orderNo"], "status": 0}
    before = stored(db)
    status, answer = partner("order/push", {**order, "loanAmount": 2_000_000})
    assert (status, answer["code"]) == (409, 1009)
    assert stored(db) == before


def test_the_filter_refuses_a_person_with_an_unfinished_order(partner):
    order = a_push()
    filter_biz = {"mobileMd5": hashlib.md5(order["mobile"].encode()).hexdigest(),
                  "idNumberMd5": hashlib.md5(order["idNumber"].encode()).hexdigest()}
    assert partner.ok("user/filter", filter_biz) == {"admit": True}
    partner.ok("order/push", order)
    assert partner.ok("user/filter", filter_biz)["admit"] is False
    other_id = {**filter_biz, "idNumberMd5": hashlib.md5(id_number().encode()).hexdigest()}
    assert partner.ok("user/filter", other_id)["admit"] is False  # the same mobile
    status, answer = partner("order/push", a_push(mobile=order["mobile"]))
    assert (status, answer["code"]) == (409, 1009) and "unfinished" in answer["msg"]
    status, answer = partner("user/filter", {"mobileMd5": "X" * 32, "idNumberMd5": filter_biz["idNumberMd5"]})
    assert (status, answer["code"]) == (400, 1001)


def test_the_trial_follows_the_product(partner):
    trial = partner.ok("loan/trial", {"loanAmount": 1_000_000, "loanTerm": 12})
    assert trial["serviceFee"] == 20_000 and trial["actualAmount"] == 980_000
    assert sum(line["principal"] for line in trial["plans"]) == 1_000_000
    assert trial["totalRepay"] == 1_000_000 + trial["totalInterest"] == sum(line["total"] for line in trial["plans"])
    for outside in ({"loanAmount": 99_999, "loanTerm": 12}, {"loanAmount": 1_000_000, "loanTerm": 48}):
        status, answer = partner("loan/trial", outside)
        assert (status, answer["code"]) == (400, 1001)


def test_banks_and_agreements(partner, client):
    banks = partner.ok("banks", {})["banks"]
    assert {"bankCode": "ICBC", "bankName": "中国工商银行"} in banks
    order_no = push(partner)[0]
    agreements = partner.ok("agreements", {"orderNo": order_no})["agreements"]
    assert len(agreements) == 3 and all(order_no in item["url"] for item in agreements)
    assert partner("agreements", {"orderNo": "NOPE"})[0] == 404
    page = client.get(agreements[0]["url"].split("8006")[-1] if "8006" in agreements[0]["url"] else
                      "/agreements/loan?orderNo=" + order_no)
    assert page.status_code == 200 and order_no in page.get_data(as_text=True)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/agreements/loan?orderNo=<script>").status_code == 400


def test_card_binding_keeps_one_default_and_a_replay_cannot_take_it_back(deps, partner, db):
    pushed = push(partner)[0]
    status, answer = partner("card/bind", {"orderNo": pushed, "bankCode": "ICBC", "cardNumber": "6222020200112233445",
                                           "mobile": "13800138000"})
    assert (status, answer["code"]) == (409, 1009)  # not approved yet
    assert partner("card/bind", {"orderNo": "NOPE", "bankCode": "ICBC", "cardNumber": "6222020200112233445",
                                 "mobile": "13800138000"})[0] == 404
    order_no, person = approve(deps, partner)
    first = {"orderNo": order_no, "bankCode": "ICBC", "cardNumber": "6222020200111111111", "mobile": person["mobile"]}
    second = {**first, "bankCode": "CMB", "cardNumber": "6225880000222222222"}
    assert partner.ok("card/bind", first) == {"bound": True, "isDefault": True}
    second_envelope = partner.envelope(second)
    assert partner.raw("card/bind", second_envelope)[1]["data"] == {"bound": True, "isDefault": False}
    assert partner.ok("card/bind", second) == {"bound": True, "isDefault": True}  # bound again: the default
    assert partner.ok("card/bind", first) == {"bound": True, "isDefault": True}
    assert partner.raw("card/bind", second_envelope)[1]["data"] == {"bound": True, "isDefault": False}  # a replay
    default = db.execute("select card_number from cards where id_number_md5 = %s and is_default",
                         (hashlib.md5(person["idNumber"].encode()).hexdigest(),)).fetchall()
    assert [row["card_number"] for row in default] == ["6222020200111111111"]
    status, answer = partner("card/bind", {**first, "bankCode": "NOBANK"})
    assert (status, answer["code"]) == (400, 1001)


def test_confirming_before_the_account_is_open_gives_a_one_time_link(deps, partner, users, db):
    order_no, person = approve(deps, partner)
    before = stored(db)
    status, answer = partner("loan/confirm", {"orderNo": order_no})
    assert (status, answer["code"]) == (409, 1009) and "card" in answer["msg"]
    assert stored(db) == before
    partner.ok("card/bind", {"orderNo": order_no, "bankCode": "ICBC", "cardNumber": "6222020200133334444",
                             "mobile": person["mobile"]})
    answer = partner.ok("loan/confirm", {"orderNo": order_no})
    assert answer["status"] == "OPEN_ACCOUNT" and answer["openAccountUrl"].startswith(users.url)
    assert users.link_requests[-1] == {"userNo": users.user_no_of(person["mobile"]), "fullname": person["name"],
                                       "idNumber": person["idNumber"], "mobile": person["mobile"], "bankCode": "ICBC",
                                       "cardNumber": "6222020200133334444", "role": "B", "validMinutes": 30}
    again = partner.ok("loan/confirm", {"orderNo": order_no})
    assert again["status"] == "OPEN_ACCOUNT"
    assert db.execute("select count(*) as n from borrow_confirm_log where order_no = %s",
                      (order_no,)).fetchone()["n"] == 1
    status, answer = partner("loan/result", {"orderNo": order_no})
    assert (status, answer["code"]) == (409, 1009)
    users.open_account(users.user_no_of(person["mobile"]))
    accepted = partner.ok("loan/confirm", {"orderNo": order_no})
    assert accepted["status"] == "ACCEPTED" and accepted == partner.ok("loan/confirm", {"orderNo": order_no})
    assert borrow_of(db, order_no)["borrow_no"] == accepted["borrowNo"]
    assert order_status(db, order_no) == 1
    assert partner.ok("loan/result", {"orderNo": order_no}) == {"status": 7002}
    status, answer = partner("repay/plan", {"orderNo": order_no})
    assert (status, answer["code"]) == (409, 1009)


def test_unknown_orders_are_404_and_orders_not_approved_are_409(partner):
    for name in ("audit/result", "loan/confirm", "loan/result", "repay/plan"):
        status, answer = partner(name, {"orderNo": "NOPE"})
        assert (status, answer["code"]) == (404, 1004), name
    pushed = push(partner)[0]
    status, answer = partner("loan/confirm", {"orderNo": pushed})
    assert (status, answer["code"]) == (409, 1009)
    status, answer = partner("repay/trial", {"orderNo": pushed, "periods": "all"})
    assert (status, answer["code"]) == (409, 1009)


def test_no_other_cut_of_the_signed_text_opens(partner, db):
    """The signed text joins the fields with separators bizData may contain; every other way to cut the
    same text into bizData and timestamp is refused under the genuine sign."""
    order = a_push(name="甲&timestamp=1&key=x")
    envelope = partner.envelope(order)
    text = f"appId=rongshu&bizData={envelope['bizData']}&timestamp={envelope['timestamp']}"
    prefix, cuts = "appId=rongshu&bizData=", 0
    for at in range(len(prefix), len(text)):
        if not text.startswith("&timestamp=", at) or at == len(prefix) + len(envelope["bizData"]):
            continue
        cuts += 1
        recut = {**envelope, "bizData": text[len(prefix):at], "timestamp": text[at + len("&timestamp="):]}
        status, answer = partner.raw("order/push", recut)
        assert (status, answer["code"]) == (400, 1001)
    assert cuts == 1
    before = stored(db)
    assert partner.raw("order/push", envelope)[0] == 200  # the genuine cut opens
    assert stored(db)["partner_orders"] == before["partner_orders"] + 1


def test_a_body_beyond_the_size_limit_is_refused(client, db):
    before = stored(db)
    response = client.post("/rongshu/order/push", data=b"{" + b" " * 70_000 + b"}", content_type="application/json")
    assert response.status_code == 413
    assert stored(db) == before


BIZ_KEYS = ("orderNo", "loanAmount", "loanTerm", "name", "mobile", "idNumber", "mobileMd5", "idNumberMd5",
            "bankCode", "cardNumber", "repayNo", "periods", "amount")
VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**40, 10**40) | st.text(max_size=30)
                      | st.sampled_from(["all", "ICBC", "13800138000", VALID_ID, "T1", 0, 1, 10**12]),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                  max_size=3), max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PARTNER_CALLS), biz=st.dictionaries(st.sampled_from(BIZ_KEYS), VALUES, max_size=6))
def test_any_signed_biz_data_gets_an_answer_never_a_server_error(partner, name, biz):
    try:
        status, answer = partner(name, biz)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot even be signed
    assert status < 500, (name, biz, answer)
    assert answer["code"] == 0 if status == 200 else answer["code"] in (1001, 1004, 1009)

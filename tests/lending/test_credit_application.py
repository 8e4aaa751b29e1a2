"""From a pushed order to a credit decision: the credit data kept and parsed, the product's limits, and a
refusal's 6004, its callback and the re-apply block."""
import hashlib
from datetime import timedelta

import pytest

from tests.lending.conftest import a_push, approve, decide_pending_credit, id_number, order_status, push, stored

from lending import credit_application, schedules


def test_a_credit_refusal_answers_6004_calls_back_and_blocks_reapplying(deps, partner, db):
    young = id_number(schedules.today(deps.config) - timedelta(days=365 * 18))
    order_no, person = approve(deps, partner, idNumber=young)
    assert order_status(db, order_no) == 4
    assert partner.ok("audit/result", {"orderNo": order_no}) == {"orderNo": order_no, "status": 6004, "reason": "资质不符"}
    can_loan = (schedules.today(deps.config) + timedelta(days=30)).isoformat()
    callback = db.execute("select biz from partner_callbacks where event_id = %s",
                          (f"credit.rejected:{order_no}",)).fetchone()["biz"]
    assert callback == {"eventId": f"credit.rejected:{order_no}", "event": "credit.rejected", "orderNo": order_no,
                        "status": 6004, "reason": "资质不符", "canLoanTime": can_loan}
    verdict = partner.ok("user/filter", {"mobileMd5": hashlib.md5(person["mobile"].encode()).hexdigest(),
                                         "idNumberMd5": hashlib.md5(young.encode()).hexdigest()})
    assert verdict == {"admit": False, "reason": "refused by credit recently", "canLoanTime": can_loan}
    before = stored(db)
    status, answer = partner("order/push", a_push(idNumber=young, mobile=person["mobile"]))
    assert (status, answer["code"]) == (409, 1009) and can_loan in answer["msg"]
    assert stored(db) == before


@pytest.mark.parametrize("change, rule", [({"loanAmount": 99_999}, "between"), ({"loanAmount": 20_000_001}, "between"),
                                         ({"loanTerm": 2}, "between"), ({"loanTerm": 25}, "between")])
def test_credit_refuses_amounts_and_terms_outside_the_product(deps, partner, db, change, rule):
    order_no = a_push(**change)["orderNo"]
    partner.ok("order/push", {**a_push(**change), "orderNo": order_no})
    credit_application.pull_credit_data(deps)
    credit_application.parse_orders(deps)
    credit_application.apply_credit(deps)
    decide_pending_credit(deps)
    assert order_status(db, order_no) == 4
    assert rule in db.execute("select refusal_reason from partner_orders where order_no = %s",
                              (order_no,)).fetchone()["refusal_reason"]


def test_the_credit_data_and_its_features_are_kept(deps, partner, db):
    order_no, _ = approve(deps, partner)
    assert order_status(db, order_no) == 12
    order = db.execute("select * from partner_orders where order_no = %s", (order_no,)).fetchone()
    kinds = db.execute("select kind from credit_data where order_id = %s order by kind", (order["id"],)).fetchall()
    assert [row["kind"] for row in kinds] == ["creditcard", "device", "operator"]
    assert set(order["features"]) == {"operatorMonths", "creditCards", "creditCardOverdues", "deviceRooted"}
    assert order["features"]["operatorMonths"] >= 6
    assert partner.ok("audit/result", {"orderNo": order_no}) == {"orderNo": order_no, "status": 6001,
                                                                  "approvedAmount": 1_000_000}
    assert partner.ok("audit/result", {"orderNo": push(partner)[0]})["status"] == 6003

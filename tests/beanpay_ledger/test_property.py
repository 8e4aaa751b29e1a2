"""Property: any sequence of postings answers exactly as a simple in-memory ledger model does."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants

SIGN = {"add": 1, "deduct": -1, "refund": 1}
CHANGE_TYPE = {"add": 1, "deduct": 2, "refund": 3}

operations = st.lists(st.tuples(st.sampled_from(["add", "deduct", "refund"]),
                                st.sampled_from(["t1", "t2", "t3", "t4"]),
                                st.integers(min_value=1, max_value=400)), min_size=1, max_size=20)


class Model:
    """The posting rules, stated plainly."""

    def __init__(self, credit: int):
        self.credit, self.balance, self.records = credit, 0, {}

    def apply(self, op: str, trade_no: str, amount: int) -> int:
        signed = SIGN[op] * amount
        key = (op, trade_no)
        if key in self.records:
            return 201 if self.records[key] == signed else 409
        if self.balance + self.credit + signed < 0:
            return 422
        if op == "refund":
            deducted = self.records.get(("deduct", trade_no))
            if deducted is None:
                return 404
            if amount > -deducted:
                return 400
        self.records[key] = signed
        self.balance += signed
        return 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, credit=st.sampled_from([0, 250]))
def test_postings_follow_the_model(api, db, ops, credit):
    eid = new_id("prop")
    api.post("/account/create", {"eid": eid, "name": "p", "credit": credit})
    model = Model(credit)
    for op, trade_no, amount in ops:
        status, body = api.post(f"/account/balance/{op}", {"eid": eid, "trade_no": trade_no, "amount": amount})
        assert status == model.apply(op, trade_no, amount), (op, trade_no, amount, body)
        if status in (200, 201):
            assert body["amount"] == model.records[(op, trade_no)]
            assert body["change_type"] == CHANGE_TYPE[op]
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == model.balance
    records = api.get("/account/record/query", {"eid": eid, "ps": 100})[1]
    assert records["count"] == len(model.records)
    assert_invariants(db)


batch_operations = st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from(["add", "deduct", "refund"]),
                                      st.sampled_from(["t1", "t2", "t3"]), st.integers(min_value=1, max_value=400)),
                            min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=batch_operations, credit=st.sampled_from([0, 250]))
def test_a_batch_answers_as_its_operations_one_by_one(api, db, ops, credit):
    """One call decides set-wise (in-call replays, refunds of in-call deducts): the same answers as alone."""
    eids = [new_id("pb"), new_id("pb")]
    for eid in eids:
        api.post("/account/create", {"eid": eid, "name": "p", "credit": credit})
    models = [Model(credit), Model(credit)]
    operations = [{"op": op, "eid": eids[who], "trade_no": trade_no, "amount": amount}
                  for who, op, trade_no, amount in ops]
    status, body = api.post("/account/balance/batch", {"operations": operations})
    assert status == 200
    for (who, op, trade_no, amount), result in zip(ops, body["results"]):
        assert result["status"] == models[who].apply(op, trade_no, amount), (who, op, trade_no, amount, result)
        if result["status"] in (200, 201):
            assert result["record"]["amount"] == models[who].records[(op, trade_no)]
        if result["status"] == 200:
            assert result["record"]["balance"] == models[who].balance
    for eid, model in zip(eids, models):
        assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == model.balance
    assert_invariants(db)

"""The batch endpoint: each operation answered exactly as alone, failures isolated."""
from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants


def test_batch_answers_each_operation_as_alone(api, db):
    eid, other = new_id(), new_id()
    for e in (eid, other):
        api.post("/account/create", {"eid": e, "name": "n"})
    operations = [
        {"op": "add", "eid": eid, "trade_no": "a1", "amount": 100},
        {"op": "add", "eid": eid, "trade_no": "a1", "amount": 100},     # replay inside the batch
        {"op": "add", "eid": eid, "trade_no": "a1", "amount": 5},       # conflict
        {"op": "deduct", "eid": eid, "trade_no": "d0", "amount": 500},  # insufficient
        {"op": "deduct", "eid": eid, "trade_no": "d1", "amount": 40},
        {"op": "refund", "eid": eid, "trade_no": "d1", "amount": 41},   # above the deduct
        {"op": "refund", "eid": eid, "trade_no": "d9", "amount": 1},    # unknown deduct
        {"op": "add", "eid": new_id(), "trade_no": "x", "amount": 1},   # unknown account
        {"op": "add", "eid": eid, "trade_no": "bad", "amount": "1.5"},  # bad amount
        {"op": "move", "eid": eid, "trade_no": "m", "amount": 1},       # bad op
        "not an object",
        {"op": "add", "eid": other, "trade_no": "o1", "amount": 7},
    ]
    status, body = api.post("/account/balance/batch", {"operations": operations})
    assert status == 200
    results = body["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        (200, 0), (201, 0), (409, 909), (422, 904), (200, 0), (400, 903), (404, 908), (404, 908), (400, 903),
        (400, 903), (400, 903), (200, 0)]
    assert results[1]["record"] == results[0]["record"]
    assert results[4]["record"]["balance"] == 60
    assert all(r["record"] is None for r in results if r["status"] >= 400)
    # Each result equals what the same call alone answers now (replays of the successes, same refusals).
    for operation, result in zip(operations, results):
        if not isinstance(operation, dict) or operation["op"] not in ("add", "deduct", "refund"):
            continue
        alone_status, alone = api.post(f"/account/balance/{operation['op']}", operation)
        if result["status"] in (200, 201):
            assert (alone_status, alone) == (201, result["record"])
        else:
            assert (alone_status, alone["code"], alone["msg"]) == (result["status"], result["code"], result["msg"])
    assert api.get("/account/balance/query", {"eid": other})[1]["balance"] == 7
    assert_invariants(db)


def test_batch_limits(api, account):
    op = {"op": "add", "eid": account, "trade_no": "t", "amount": 1}
    assert api.post("/account/balance/batch", {"operations": [op] * 1001})[0] == 400
    assert api.post("/account/balance/batch", {"operations": []})[0] == 400
    assert api.post("/account/balance/batch", {"ops": [op]})[0] == 400
    status, body = api.post("/account/balance/batch",
                            {"operations": [{**op, "trade_no": f"t{i}"} for i in range(1000)]})
    assert status == 200 and len(body["results"]) == 1000
    assert api.get("/account/balance/query", {"eid": account})[1]["balance"] == 1000

"""The simulation's inputs: passed on to lending as they are given (so that lending's refusals can be tried),
within what the sandbox itself can store."""
from tests.lending.conftest import new_person


def test_an_order_outside_lendings_limits_is_still_pushed(client, sandbox_db):
    pushed = client.post("/sim/orders", json={**new_person(), "loanAmount": 1, "loanTerm": 99_999})
    assert pushed.status_code == 201
    assert sandbox_db.execute("select loan_term from sim_orders where order_no = %s",
                              (pushed.get_json()["orderNo"],)).fetchone()["loan_term"] == 99_999


def test_what_the_sandbox_cannot_store_is_refused_before_anything_is_kept(client, sandbox_db):
    before = sandbox_db.execute("select count(*) as n from sim_orders").fetchone()["n"]
    for changes in ({"loanTerm": 10**12}, {"loanTerm": 100_000}, {"loanAmount": 10**12 + 1}, {"loanTerm": True},
                    {"loanAmount": "100"}):
        refused = client.post("/sim/orders", json={**new_person(), "loanAmount": 1_000_000, "loanTerm": 6, **changes})
        assert refused.status_code == 400, changes
    assert client.post("/sim/orders/RS1/repay", json={"periods": [1000]}).status_code == 400
    assert client.post("/sim/orders/RS1/repay", json={"periods": []}).status_code == 400
    assert sandbox_db.execute("select count(*) as n from sim_orders").fetchone()["n"] == before

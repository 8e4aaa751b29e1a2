"""The depository account balances (/balance-details), the platform's own account and the bank's totals."""


def test_balance_details(client, platform, opened_user):
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "0.00",
                                                                  "frozen": "0.00"}
    client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", platform.recharge(opened_user, "120.50")))
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "120.50",
                                                                  "frozen": "0.00"}
    assert client.get("/balance-details/USR_NOBODY").status_code == 404

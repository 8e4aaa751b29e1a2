"""The depository account balances (/balance-details)."""


def test_balance_details(client, platform, opened_user):
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "0.00"}
    client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", platform.recharge(opened_user, "120.50")))
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "120.50"}
    assert client.get("/balance-details/USR_NOBODY").status_code == 404

"""The bank's queries: a request's signed status for compensation, balances, daily statements."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def _today(settings) -> str:
    return datetime.now(ZoneInfo(settings["SANDBOX_TIMEZONE"])).date().isoformat()


def test_service_query_is_signed_by_the_bank_and_follows_the_status(client, platform, opened_user):
    payload = platform.recharge(opened_user, "12.34")
    assert client.get("/gateway", query_string=platform.gateway_params("RECHARGE", payload)).status_code == 200
    query = {"platformNo": "WANXINP2P", "requestNo": payload["requestNo"]}
    pending = client.get("/service/query", query_string=query)
    assert pending.status_code == 200
    assert pending.json["serviceName"] == "RECHARGE" and pending.json["platformNo"] == "WANXINP2P"
    note = platform.read_notification(pending.json)
    assert note["status"] == 0 and note["respCode"] != "00000" and note["amount"] == "12.34"

    client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", payload))
    final = platform.read_notification(client.get("/service/query", query_string=query).json)
    assert final == {"requestNo": payload["requestNo"], "respCode": "00000", "respMsg": "success", "status": 1,
                     "transactionStatus": "SUCCESS", "amount": "12.34"}
    tampered = {**client.get("/service/query", query_string=query).json}
    tampered["reqData"] = pending.json["reqData"]
    try:
        platform.read_notification(tampered)
        raise AssertionError("a mixed reqData/signature must not verify")
    except Exception as exc:  # BadRequest from decode_wanxin
        assert "signature" in str(exc)


def test_service_query_unknown_request_and_platform(client):
    unknown = client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": "REQ_" + "0" * 32})
    assert unknown.status_code == 404 and unknown.json == {"code": 908, "msg": "unknown request"}
    other = client.get("/service/query", query_string={"platformNo": "X", "requestNo": "REQ_1"})
    assert other.status_code == 400
    assert client.get("/service/query").status_code == 400


def test_balance_details(client, platform, opened_user):
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "0.00"}
    client.post("/sandbox/confirm", json=platform.confirm_body("RECHARGE", platform.recharge(opened_user, "120.50")))
    assert client.get(f"/balance-details/{opened_user}").json == {"userNo": opened_user, "balance": "120.50"}
    assert client.get("/balance-details/USR_NOBODY").status_code == 404


def test_statement_lists_the_days_successful_movements(client, settings, platform, opened_user):
    recharge = platform.recharge(opened_user, "50.00")
    withdraw = platform.withdraw(opened_user, "20.00", "0.30")
    failed = platform.withdraw(opened_user, "99999.00", "0")
    for service, payload in (("RECHARGE", recharge), ("WITHDRAW", withdraw), ("WITHDRAW", failed)):
        client.post("/sandbox/confirm", json=platform.confirm_body(service, payload))
    today = _today(settings)
    statement = client.get("/statements", query_string={"platformNo": "WANXINP2P", "date": today}).json
    assert statement["platformNo"] == "WANXINP2P" and statement["date"] == today
    assert statement["count"] == len(statement["transactions"])
    mine = [line for line in statement["transactions"] if line["userNo"] == opened_user]
    assert [(line["requestNo"], line["serviceName"], line["amount"], line["commission"], line["status"])
            for line in mine] == [(recharge["requestNo"], "RECHARGE", "50.00", "0.00", 1),
                                  (withdraw["requestNo"], "WITHDRAW", "20.00", "0.30", 1)]
    assert mine[0]["time"].startswith(today) and mine[0]["time"].endswith("+08:00")
    yesterday = (datetime.fromisoformat(today) - timedelta(days=1)).date().isoformat()
    empty = client.get("/statements", query_string={"platformNo": "WANXINP2P", "date": yesterday}).json
    assert empty["count"] == 0 and empty["transactions"] == []
    assert client.get("/statements", query_string={"platformNo": "WANXINP2P", "date": "2024-13-01"}).status_code == 400
    assert client.get("/statements", query_string={"platformNo": "OTHER", "date": today}).status_code == 400

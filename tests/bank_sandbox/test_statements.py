"""The daily statement of the platform's money movements, for reconciliation (/statements)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def _today(settings) -> str:
    return datetime.now(ZoneInfo(settings["SANDBOX_TIMEZONE"])).date().isoformat()


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

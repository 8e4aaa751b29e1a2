"""The bank's signed view of a request, for the platform's compensation (/service/query)."""


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

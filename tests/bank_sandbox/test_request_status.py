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


def test_service_query_unknown_request_is_a_signed_404_and_no_other_404_passes_for_it(client, platform):
    request_no = platform.request_no()
    unknown = client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": request_no})
    assert unknown.status_code == 404
    assert set(unknown.json) == {"respData", "signature", "code", "msg"}
    assert (unknown.json["code"], unknown.json["msg"]) == (908, "unknown request")  # unsigned, for old callers
    result = platform.read_answer(unknown.json)
    assert result == {"requestNo": request_no, "respCode": "40004", "respMsg": result["respMsg"], "status": 0}
    assert result["respMsg"]
    # the answer is about the requestNo asked: it cannot be taken for another one
    other = client.get("/service/query", query_string={"platformNo": "WANXINP2P", "requestNo": platform.request_no()})
    assert platform.read_answer(other.json)["requestNo"] != request_no
    assert platform.answer_verifies({"respData": other.json["respData"], "signature": unknown.json["signature"]}) \
        is False
    # a 404 of an unknown path, or of a path a wrong base URL leads to, is not the bank's signed answer
    for path in ("/service/query/", "/service/quer", "/nowhere"):
        stray = client.get(path, query_string={"platformNo": "WANXINP2P", "requestNo": request_no})
        assert stray.status_code in (404, 405) and "respData" not in stray.json
    # the platform's own request signed with the platform's key is no bank answer either
    forged = platform.gateway_params("RECHARGE", {"requestNo": request_no, "respCode": "40004", "respMsg": "x",
                                                  "status": 0})
    assert platform.answer_verifies({"respData": forged["reqData"], "signature": forged["signature"]}) is False


def test_service_query_unknown_request_and_platform(client):
    other = client.get("/service/query", query_string={"platformNo": "X", "requestNo": "REQ_1"})
    assert other.status_code == 400
    assert client.get("/service/query").status_code == 400

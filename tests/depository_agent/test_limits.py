"""Size limits of the agent: bodies over MAX_CONTENT_LENGTH, over-long fields; each a 4xx that stores nothing."""
import pytest

from tests.depository_agent.conftest import (bank_result, consumer_body, record_of, recharge_body, sign_bank_message,
                                             withdraw_body)


def records(db) -> int:
    return db.execute("select count(*) as n from depository_record").fetchone()["n"]


def test_a_body_over_max_content_length_is_413_in_the_envelope(client, auth, db, app, infra):
    padding = "x" * app.config["MAX_CONTENT_LENGTH"]
    before = records(db)
    body = recharge_body(pad=padding)
    answer = client.post("/l/recharges", json=body, headers=auth)
    assert answer.status_code == 413
    assert answer.get_json()["code"] == 913 and answer.get_json()["result"] is None
    message = sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"]))
    form = client.post("/gateway", data={**message, "pad": padding})
    assert form.status_code == 413
    assert records(db) == before


@pytest.mark.parametrize("path, build, change, field", [
    ("/l/recharges", recharge_body, {"requestNo": "REQ_" + "A" * 32 + "\n"}, "requestNo"),
    ("/l/recharges", recharge_body, {"userNo": "USR_" + "A" * 32 + "\n"}, "userNo"),
    ("/l/recharges", recharge_body, {"requestNo": "REQ_" + "A" * 33}, "requestNo"),
    ("/l/recharges", recharge_body, {"amount": "1" * 16}, "amount"),
    ("/l/consumers", consumer_body, {"idNumber": "1" * 33}, "idNumber"),
    ("/l/consumers", consumer_body, {"bankCode": "B" * 21}, "bankCode"),
    ("/l/consumers", consumer_body, {"cardNumber": "6" * 31}, "cardNumber"),
    ("/l/consumers", consumer_body, {"mobile": "1" * 21}, "mobile"),
    ("/l/consumers", consumer_body, {"mobile": "13800138000\n"}, "mobile"),
    ("/l/withdraws", withdraw_body, {"commission": "1" * 16}, "commission"),
])
def test_over_long_or_trailing_newline_fields_are_400(client, auth, db, path, build, change, field):
    before = records(db)
    answer = client.post(path, json=build(**change), headers=auth)
    assert answer.status_code == 400, answer.get_json()
    assert field in answer.get_json()["msg"]
    assert records(db) == before


@pytest.mark.parametrize("change", [{"reqData": "A" * 16385}, {"signature": "A" * 4097}, {"platformNo": "P" * 65}])
def test_over_long_notification_parameters_are_400(client, infra, db, change):
    body = recharge_body()
    message = {**sign_bank_message(infra.keys_dir, "RECHARGE", bank_result("RECHARGE", body["requestNo"])), **change}
    answer = client.post("/gateway", data=message)
    assert answer.status_code == 400 and next(iter(change)) in answer.get_json()["msg"]
    assert record_of(db, body["requestNo"]) is None

"""Size limits: bodies over MAX_CONTENT_LENGTH, over-long fields, oversized pages; each a 4xx that changes nothing."""
import pytest

from tests.user_center.conftest import CALLBACK, new_mobile, open_form


def rows(db, table: str) -> int:
    return db.execute(f"select count(*) as n from {table}").fetchone()["n"]


def test_a_body_over_max_content_length_is_413_in_the_envelope(client, idle_user, db, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    before = rows(db, "consumer"), rows(db, "recharge_record")
    padding = "x" * limit
    big = client.post("/consumers", json={"mobile": new_mobile(), "password": "long-enough", "pad": padding})
    assert big.status_code == 413
    assert big.json == {"code": 913, "msg": big.json["msg"], "result": None} and big.json["msg"]
    assert idle_user.post("/my/recharge-records", {"amount": "1.00", "callbackUrl": CALLBACK,
                                                   "pad": padding}).status_code == 413
    assert (rows(db, "consumer"), rows(db, "recharge_record")) == before


@pytest.mark.parametrize("field, value", [
    ("mobile", "1" * 12), ("password", "p" * 65), ("username", "u" * 33), ("password", "short")])
def test_over_long_registration_fields_are_400(client, db, field, value):
    body = {"mobile": new_mobile(), "password": "long-enough", "username": "ok", field: value}
    before = rows(db, "consumer")
    answer = client.post("/consumers", json=body)
    assert answer.status_code == 400 and field in answer.json["msg"]
    assert rows(db, "consumer") == before


def test_an_over_long_login_password_is_400_before_any_hashing(client):
    answer = client.post("/tokens", json={"mobile": new_mobile(), "password": "p" * 129})
    assert answer.status_code == 400 and "password" in answer.json["msg"]


@pytest.mark.parametrize("field, value", [
    ("fullname", "名" * 51), ("idNumber", "1" * 19), ("bankCode", "B" * 21), ("cardNumber", "6" * 20),
    ("mobile", "1" * 12), ("callbackUrl", "http://h/" + "a" * 504)])
def test_over_long_opening_fields_are_400_and_change_nothing(idle_new_user, agent, db, field, value):
    before, calls = rows(db, "depository_register"), len(agent.calls)
    answer = idle_new_user.post("/my/consumers", open_form(**{field: value}))
    assert answer.status_code == 400 and field in answer.json["msg"]
    assert rows(db, "depository_register") == before and len(agent.calls) == calls

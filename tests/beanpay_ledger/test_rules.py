"""Unit tests of the ledger's input rules and outcome table (no database)."""
from datetime import datetime

import pytest
from marshmallow import ValidationError

from beanpay_ledger.outcomes import EXPIRED_CODE, SUCCESS_STATUS, refusal
from beanpay_ledger.api.schemas import PackageCreateArgs, PostingArgs, RecordQueryArgs


@pytest.mark.parametrize("amount, expected", [(1, 1), ("1", 1), (" 25 ", 25), (10**12, 10**12), ("1000000000000", 10**12)])
def test_amount_accepts_whole_fen(amount, expected):
    assert PostingArgs().load({"eid": "e", "trade_no": "t", "amount": amount})["amount"] == expected


@pytest.mark.parametrize("amount", [0, "0", -1, "-1", "1.5", 1.5, 1.0, "1e3", "NaN", "", "abc", True, None,
                                    10**12 + 1, "99999999999999999999999", [], {}, "0x10", "１２"])
def test_amount_refuses_anything_else(amount):
    with pytest.raises(ValidationError) as error:
        PostingArgs().load({"eid": "e", "trade_no": "t", "amount": amount})
    assert "amount" in error.value.messages


@pytest.mark.parametrize("value", ["", " ", "a b", "x" * 65, "nul\x00", "tab\t"])
def test_identifiers_are_1_to_64_visible_characters(value):
    with pytest.raises(ValidationError):
        PostingArgs().load({"eid": value, "trade_no": "t", "amount": 1})


@pytest.mark.parametrize("value", ["", " ", "a b", "x" * 129, "nul\x00", "tab\t"])
def test_trade_numbers_are_1_to_128_visible_characters(value):
    with pytest.raises(ValidationError):
        PostingArgs().load({"eid": "e", "trade_no": value, "amount": 1})
    assert PostingArgs().load({"eid": "e", "trade_no": "x" * 128, "amount": 1})["trade_no"] == "x" * 128


def test_record_query_pages_and_times():
    args = RecordQueryArgs().load({"eid": "e", "start": "20240101", "end": "2024-01-31", "pi": "2", "ps": "100"})
    assert args["start"] == datetime(2024, 1, 1)
    assert args["end"] == datetime(2024, 2, 1)  # a bare end day is inclusive
    assert (args["pi"], args["ps"], args["change_type"]) == (2, 100, None)
    assert RecordQueryArgs().load({"eid": "e", "end": "20240131235959"})["end"] == datetime(2024, 1, 31, 23, 59, 59)
    for bad in ({"ps": 101}, {"ps": 0}, {"pi": 0}, {"change_type": 4}, {"start": "2024-13-01"}, {"end": "yesterday"}):
        with pytest.raises(ValidationError):
            RecordQueryArgs().load({"eid": "e", **bad})


def test_package_create_rules():
    args = PackageCreateArgs().load({"eid": "e", "spkg_id": "p", "name": "n", "total": "0", "expires": "20301231"})
    assert (args["total"], args["daily"], args["expires"].isoformat()) == (0, None, "2030-12-31")
    for bad in ({"total": -1}, {"daily": 0}, {"expires": "20300231"}, {"expires": "2030123"}):
        with pytest.raises(ValidationError):
            PackageCreateArgs().load({"eid": "e", "spkg_id": "p", "name": "n", "total": 1, "expires": "20301231",
                                      **bad})


@pytest.mark.parametrize("outcome, status, code", [
    ("no_account", 404, 908), ("no_package", 404, 908), ("no_deduct", 404, 908), ("conflict", 409, 909),
    ("locked", 423, 907), ("insufficient", 422, 904), ("insufficient_capacity", 422, 904),
    ("daily_limit", 422, 904), ("refund_exceeds", 400, 903), ("expired", 422, EXPIRED_CODE),
])
def test_refusals_map_to_status_and_code(outcome, status, code):
    error = refusal(outcome, "eid x")
    assert (error.status, error.code) == (status, code)
    assert error.msg.endswith("eid x")


def test_new_posting_is_200_and_replay_201():
    assert SUCCESS_STATUS == {"posted": 200, "replay": 201}

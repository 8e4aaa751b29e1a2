"""The lending bench's orders: genuine envelopes, each of its own person, valid for the partner API."""
import json
import time

import pytest

from bench.lending import APP_ID, envelopes
from shared.partner_envelope import EnvelopeError, open_envelope

from lending.credit_engine import id_number_problem


def test_every_envelope_opens_and_names_another_valid_person():
    bodies = [json.loads(body) for body in envelopes("a-secret", 2000, first=6000)]
    now_ms = int(time.time() * 1000)
    orders = [json.loads(json.dumps(open_envelope(body, APP_ID, "a-secret", now_ms))) for body in bodies]
    assert all(id_number_problem(order["idNumber"]) is None for order in orders)
    for key in ("orderNo", "mobile", "idNumber"):
        assert len({order[key] for order in orders}) == len(orders), key


def test_a_wrong_secret_opens_none():
    body = json.loads(envelopes("a-secret", 1)[0])
    with pytest.raises(EnvelopeError):
        open_envelope(body, APP_ID, "another", int(time.time() * 1000))

"""partner-sandbox's OpenAPI document, fuzzed against the live service: the simulation's controls for
seeded and made-up orders, the credit data, and lending's callbacks correctly signed (about half the
cases); the fault knobs last, then reset."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

import requests

from tests.api_fuzz.harness import fuzz, load_schema, mix_in, seed_fields
from tests.api_fuzz.lending_seeds import lending_callbacks, refused_on_data, signed, tracebacks
from tests.api_fuzz.seeds import bearer


def test_partner_sandbox_api(lending_stack, fuzz_infra):
    """No 5xx, every answer documented and matching its schema, no operation refusing every case."""
    url = lending_stack.sandbox.url
    token = bearer(fuzz_infra.internal_token)
    callbacks = signed(lending_callbacks(lending_stack.seeds["order_nos"]), lending_stack.secret)
    schema = load_schema(url)
    # The fault knobs fail and slow the callbacks on purpose: they are fuzzed on their own, last.
    others = schema.exclude(path="/sim/faults", method="POST")
    seed_fields(others, lambda operation: {"order_no": lending_stack.seeds["order_nos"]})
    mix_in(others, "body", lambda operation: callbacks if operation.path == "/callbacks" else None)

    run = fuzz(others, lambda case: token)
    try:
        knobs = fuzz(schema.include(path="/sim/faults", method="POST"), lambda case: token)
    finally:
        requests.post(f"{url}/sim/faults", json={"failFirst": 0, "delayMs": 0}, headers=token, timeout=10)
    run.assert_clean()
    knobs.assert_clean()
    assert not refused_on_data(run), f"every case refused (400) by {refused_on_data(run)}:\n{run.summary()}"
    assert not tracebacks(lending_stack.sandbox)

"""beanpay-ledger's OpenAPI document, fuzzed against the live service with the service token."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

from tests.api_fuzz import seeds
from tests.api_fuzz.harness import fuzz, load_schema, seed_fields

KNOWN = {"eid": [seeds.LEDGER_EID], "spkg_id": [seeds.LEDGER_SPKG_ID],
         "trade_no": [seeds.LEDGER_DEDUCT_TRADE_NO, seeds.LEDGER_CAPACITY_TRADE_NO]}


def test_ledger_api(fuzz_stack, fuzz_infra):
    """No 5xx, every answer documented and matching its schema; a known wallet and package seeded in."""
    url = fuzz_stack.url("beanpay_ledger")
    seeds.seed_ledger(url, fuzz_infra.internal_token)
    schema = load_schema(url)
    seed_fields(schema, lambda operation: KNOWN)

    run = fuzz(schema, lambda case: seeds.bearer(fuzz_infra.internal_token))
    run.assert_clean()

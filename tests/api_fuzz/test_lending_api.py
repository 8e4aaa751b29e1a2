"""lending's OpenAPI document, fuzzed against the live service: the partner API with envelopes correctly
signed with the partner's secret (about half the cases), and the internal read with the service token."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

from shared.contract import PARTNER_PATH_PREFIX
from tests.api_fuzz.harness import fuzz, load_schema, mix_in, seed_fields
from tests.api_fuzz.lending_seeds import partner_biz, refused_on_data, signed, tracebacks
from tests.api_fuzz.seeds import bearer


def test_lending_api(lending_stack, fuzz_infra):
    """No 5xx, every answer documented and matching its schema, and some cases of every operation accepted
    (or refused for what they name, 404/409), never all of them refused for their format."""
    schema = load_schema(lending_stack.lending.url)
    seed_fields(schema, lambda operation: {"userNo": [lending_stack.seeds["borrower"]]})
    envelopes = {PARTNER_PATH_PREFIX + call: signed(biz, lending_stack.secret)
                 for call, biz in partner_biz(lending_stack.seeds).items()}
    mix_in(schema, "body", lambda operation: envelopes.get(operation.path))

    run = fuzz(schema, lambda case: bearer(fuzz_infra.internal_token))
    run.assert_clean()
    assert not refused_on_data(run), f"every case refused (400) by {refused_on_data(run)}:\n{run.summary()}"
    assert not tracebacks(lending_stack.lending)

"""user-center's OpenAPI document, fuzzed with real users' tokens against the live stack."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

from tests.api_fuzz.harness import fuzz, load_schema, security_schemes, seed_fields
from tests.api_fuzz.seeds import bearer


def test_user_center_api(fuzz_stack, fuzz_infra, opened_user, fresh_user):
    """No 5xx, every answer documented and matching its schema.

    /my/ operations run as a user whose depository account is open and funded (so recharge and
    withdraw reach the agent and the ledger), except opening an account, which runs as a new user.
    """
    schema = load_schema(fuzz_stack.url("user_center"))
    seed_fields(schema, lambda operation: {"requestNo": [[opened_user.register_request_no]]}
                if operation.path == "/internal/records" else {})

    def headers_for(case):
        schemes = security_schemes(case)
        if "serviceToken" in schemes:
            return bearer(fuzz_infra.internal_token)
        if "bearerAuth" in schemes:
            opening = case.operation.method.upper() == "POST" and case.operation.path == "/my/consumers"
            return bearer((fresh_user if opening else opened_user).token)
        return {}

    run = fuzz(schema, headers_for)
    run.assert_clean()

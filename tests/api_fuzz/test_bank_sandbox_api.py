"""bank-sandbox's OpenAPI document, fuzzed with platform-signed requests and a known bank user."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

import datetime
import re
import uuid

import requests
from hypothesis import strategies as st

from tests.api_fuzz.harness import fuzz, load_schema, mix_in, seed_fields
from tests.api_fuzz.seeds import BANK_PASSWORD, bearer
from tests.api_fuzz.signed import CALLBACK_URL, PLATFORM_NO, platform_request, platform_requests


def open_bank_pages(url: str, keys_dir: str, user) -> list[dict]:
    """Bank pages opened for a recharge and a withdraw of ``user``: their forms' requestNo and token."""
    forms = []
    for service_name, amounts in [("RECHARGE", {"amount": "10.00"}),
                                  ("WITHDRAW", {"amount": "1.00", "commission": "0.00",
                                                "cardNumber": "6222020200112233445", "mobile": user.mobile})]:
        payload = {"requestNo": "REQ_" + uuid.uuid4().hex.upper(), "userNo": user.user_no,
                   "callbackUrl": CALLBACK_URL, **amounts}
        page = requests.get(f"{url}/gateway", params=platform_request(keys_dir, service_name, payload), timeout=10)
        assert page.status_code == 200, page.text[:300]
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token, "no form token on the bank page"
        forms.append({"requestNo": payload["requestNo"], "token": token.group(1)})
    return forms


def test_bank_sandbox_api(fuzz_stack, fuzz_infra, opened_user):
    """No 5xx, every answer documented and matching its schema.

    Half of the /gateway and /sandbox/confirm cases carry a request correctly signed with the
    platform's key, some for the opened user (whose transaction password is known); half of the
    bank page's form posts are for pages really opened, with their token.
    """
    url = fuzz_stack.url("bank_sandbox")
    forms = open_bank_pages(url, fuzz_infra.keys_dir, opened_user)
    schema = load_schema(url)
    today = datetime.date.today().isoformat()
    known = {"platformNo": [PLATFORM_NO], "requestNo": [opened_user.register_request_no],
             "user_no": [opened_user.user_no], "date": [today], "password": [BANK_PASSWORD]}
    seed_fields(schema, lambda operation: known)
    signed = platform_requests(fuzz_infra.keys_dir, opened_user.user_no, opened_user.mobile)
    confirmations = signed.map(lambda message: {**message, "password": BANK_PASSWORD})
    form_posts = st.tuples(st.sampled_from(forms), st.sampled_from(["confirm", "cancel"]),
                           st.sampled_from([BANK_PASSWORD, "000000", ""])).map(
        lambda parts: {**parts[0], "action": parts[1], "password": parts[2], "passwordConfirm": parts[2]})
    mix_in(schema, "query", lambda operation: signed if operation.path == "/gateway" else None)
    mix_in(schema, "body", lambda operation: {"/sandbox/confirm": confirmations,
                                              "/gateway/confirm": form_posts}.get(operation.path))

    try:
        run = fuzz(schema, lambda case: bearer(fuzz_infra.internal_token))
    finally:  # the fuzzer may have set fault knobs: leave the shared stack's bank well-behaved
        requests.delete(f"{url}/sandbox/faults", headers=bearer(fuzz_infra.internal_token), timeout=10)
    run.assert_clean()

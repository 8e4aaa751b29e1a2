"""bank-callback's OpenAPI document, fuzzed with Huifu callbacks, half of them correctly signed."""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")

from pathlib import Path

import requests

from shared.signing import huifu_chk_value, load_key
from tests.api_fuzz.harness import fuzz, load_schema, mix_in
from tests.api_fuzz.signed import MER_CUST_ID, USER_REGISTER_FIELDS, huifu_callbacks

COMMANDS = {"/register": "UserRegister", "/RegisterCallback": "UserRegister",
            "/netsave": "NetSave", "/NetSaveCallback": "NetSave"}
CUST_ID = "6000060000000002"


def register_customer(url: str, keys_dir: str) -> None:
    """A Huifu customer the platform knows, so fuzzed NetSave callbacks can name a real UsrCustId."""
    fields = {"CmdId": "UserRegister", "RespCode": "000", "MerCustId": MER_CUST_ID, "UsrId": "fuzzopenid0001",
              "UsrCustId": CUST_ID, "BgRetUrl": f"{url}/register", "TrxId": "900000000001",
              "RetUrl": f"{url}/RegisterCallback"}
    key = load_key(str(Path(keys_dir) / "huifu_private.pem"))
    fields["ChkValue"] = huifu_chk_value(key, [fields.get(name, "") for name in USER_REGISTER_FIELDS])
    response = requests.post(f"{url}/register", data=fields, timeout=10)
    assert response.status_code == 200 and response.text == "RECV_ORD_ID_900000000001", response.text


def test_bank_callback_api(fuzz_stack, fuzz_infra):
    """No 5xx, every answer documented and matching its schema, also past ChkValue verification."""
    url = fuzz_stack.url("bank_callback")
    register_customer(url, fuzz_infra.keys_dir)
    schema = load_schema(url)
    signed = {command: huifu_callbacks(fuzz_infra.keys_dir, command, [CUST_ID], url)
              for command in set(COMMANDS.values())}
    # A signed callback goes where the operation documents the fields: the query of a GET, the form body of
    # a POST (schemathesis calls the query hook of an operation without query parameters too).
    mix_in(schema, "query", lambda operation: signed.get(COMMANDS.get(operation.path)) if operation.query else None)
    mix_in(schema, "body", lambda operation: signed.get(COMMANDS.get(operation.path)))

    run = fuzz(schema, lambda case: {})
    run.assert_clean()

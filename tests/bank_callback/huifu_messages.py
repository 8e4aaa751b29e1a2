"""Huifu callbacks as the bank would send them, signed INDEPENDENTLY of the service's code.

ChkValue is computed here with the ``cryptography`` package over the documented concatenation
(docs/protocols.md, the Huifu channel), so a test passing proves the service implements the
documented rule, not merely agrees with itself.
"""
import uuid
from datetime import datetime
from functools import lru_cache
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

REGISTER_ORDER = ["CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl", "TrxId", "RetUrl", "MerPriv"]
NETSAVE_ORDER = ["CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt", "TrxId",
                 "RetUrl", "BgRetUrl", "MerPriv"]
MER_CUST_ID = "6000060000000001"
CALLBACK_BASE = "http://127.0.0.1:8003"  # the service's default HUIFU_CALLBACK_URL
_HASHES = {"SHA256": hashes.SHA256, "MD5": hashes.MD5, "SHA1": hashes.SHA1}
_sequence = count(1)


@lru_cache(maxsize=8)
def _private_key(private_pem: Path):
    return serialization.load_pem_private_key(Path(private_pem).read_bytes(), password=None)


def chk_value(private_pem: Path, fields: dict, order: list[str], hash_name: str = "SHA256") -> str:
    """Upper-case hex RSASSA-PKCS1-v1_5 signature over the fields in ``order`` (absent = '')."""
    key = _private_key(Path(private_pem))
    message = "".join(fields.get(name, "") for name in order).encode("utf-8")
    return key.sign(message, padding.PKCS1v15(), _HASHES[hash_name]()).hex().upper()


def signed(private_pem: Path, fields: dict, order: list[str], hash_name: str = "SHA256") -> dict:
    """``fields`` plus their ChkValue."""
    return {**fields, "ChkValue": chk_value(private_pem, fields, order, hash_name)}


def trx_id() -> str:
    """An 18-digit TrxId, unique within the run."""
    return f"{uuid.uuid4().int % 10**12:012d}{next(_sequence):06d}"


def bank_today() -> str:
    """Today in China Standard Time, as an OrdDate."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d")


def new_ord_id() -> str:
    return f"{uuid.uuid4().int % 10**20:020d}"


def new_openid() -> str:
    return f"oid{uuid.uuid4().hex[:22]}"


def new_cust_id() -> str:
    return f"6000060{uuid.uuid4().int % 10**9:09d}"


def register_fields(**overrides) -> dict:
    """An unsigned successful UserRegister callback."""
    fields = {"CmdId": "UserRegister", "RespCode": "000", "RespDesc": "成功", "MerCustId": MER_CUST_ID,
              "UsrId": new_openid(), "UsrCustId": new_cust_id(), "BgRetUrl": f"{CALLBACK_BASE}/register",
              "TrxId": trx_id(), "RetUrl": f"{CALLBACK_BASE}/RegisterCallback", "MerPriv": "p=1&q=二"}
    fields.update(overrides)
    return fields


def netsave_fields(cust_id: str, amount: str = "100.00", **overrides) -> dict:
    """An unsigned successful NetSave callback for ``cust_id``."""
    fields = {"CmdId": "NetSave", "RespCode": "000", "RespDesc": "成功", "MerCustId": MER_CUST_ID,
              "UsrCustId": cust_id, "OrdId": new_ord_id(), "OrdDate": bank_today(),
              "TransAmt": amount, "TrxId": trx_id(), "RetUrl": f"{CALLBACK_BASE}/NetSaveCallback",
              "BgRetUrl": f"{CALLBACK_BASE}/netsave", "MerPriv": "", "GateBusiId": "B2C", "FeeAmt": "0.00"}
    fields.update(overrides)
    return fields

"""The Huifu protocol: which fields each command signs, and the checks every callback passes.

A callback is trusted only after its ``ChkValue`` verifies over the command's fields in the
SPEC's order and its ``MerCustId`` is this platform's; field rules specific to what is stored
live in :mod:`bank_callback.callbacks`.
"""
import re
from dataclasses import dataclass

from shared.config import key_path
from shared.errors import BadRequest
from shared.signing import RsaKey, load_key, verify_huifu

SUCCESS = "000"
SIGNATURE_INVALID = 910
_TRX_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
HASHES = ("SHA256", "MD5", "SHA1")


@dataclass(frozen=True)
class Command:
    """A Huifu command (``CmdId``) and the fields its ChkValue signs, in order."""

    name: str
    signed_fields: tuple[str, ...]


USER_REGISTER = Command("UserRegister", ("CmdId", "RespCode", "MerCustId", "UsrId", "UsrCustId", "BgRetUrl",
                                         "TrxId", "RetUrl", "MerPriv"))
NET_SAVE = Command("NetSave", ("CmdId", "RespCode", "MerCustId", "UsrCustId", "OrdId", "OrdDate", "TransAmt",
                               "TrxId", "RetUrl", "BgRetUrl", "MerPriv"))


class Verifier:
    """Checks callbacks against the Huifu public key and this platform's merchant id."""

    def __init__(self, public_key: RsaKey, hash_name: str, mer_cust_id: str, min_bits: int):
        self.public_key = public_key
        self.hash_name = hash_name
        self.mer_cust_id = mer_cust_id
        self.min_bits = min_bits

    @classmethod
    def from_config(cls, config: dict) -> "Verifier":
        """The verifier of ``config``: key from HUIFU_PUBLIC_KEY_PATH (or KEYS_DIR), HUIFU_SIGN_HASH."""
        if config["HUIFU_SIGN_HASH"].upper() not in HASHES:
            raise ValueError(f"HUIFU_SIGN_HASH must be one of {', '.join(HASHES)}, not {config['HUIFU_SIGN_HASH']!r}")
        path = key_path(config, "HUIFU_PUBLIC_KEY_PATH", "huifu_public.pem")
        return cls(load_key(path, config["MIN_KEY_BITS"]), config["HUIFU_SIGN_HASH"].upper(),
                   config["HUIFU_MER_CUST_ID"], config["MIN_KEY_BITS"])

    def verify(self, command: Command, params: dict) -> dict[str, str]:
        """Return the callback's fields (all strings) once it is proven to come from the bank.

        Raises :class:`BadRequest` with the reason: non-string or NUL-carrying values, a missing
        or wrong ChkValue, another command, another merchant, or a malformed TrxId.
        """
        fields = _string_fields(params)
        chk_value = fields.get("ChkValue", "")
        if not chk_value:
            raise BadRequest("ChkValue is required", code=SIGNATURE_INVALID)
        signed = [fields.get(name, "") for name in command.signed_fields]
        if not verify_huifu(self.public_key, signed, chk_value, self.hash_name, self.min_bits):
            raise BadRequest(f"ChkValue does not verify over {' '.join(command.signed_fields)}",
                             code=SIGNATURE_INVALID)
        if fields.get("CmdId") != command.name:
            raise BadRequest(f"CmdId must be {command.name}")
        if fields.get("MerCustId") != self.mer_cust_id:
            raise BadRequest("MerCustId is not this platform's merchant customer id")
        if not _TRX_ID.fullmatch(fields.get("TrxId", "")):
            raise BadRequest("TrxId is required: 1 to 64 letters, digits, '_' or '-'")
        return fields


def is_success(fields: dict) -> bool:
    """True when the bank reports the operation as successful (RespCode 000)."""
    return fields.get("RespCode") == SUCCESS


def receipt(fields: dict) -> str:
    """The exact acknowledgement the bank waits for: ``RECV_ORD_ID_<TrxId>``."""
    return f"RECV_ORD_ID_{fields['TrxId']}"


def _string_fields(params: dict) -> dict[str, str]:
    fields = {}
    for name, value in params.items():
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain NUL characters")
        fields[name] = value
    return fields

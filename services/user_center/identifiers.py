"""Identifiers (docs/protocols.md): ``USR_``/``REQ_`` + 32 upper-case hex characters."""
import secrets


def new_user_no() -> str:
    return "USR_" + secrets.token_hex(16).upper()


def new_request_no() -> str:
    return "REQ_" + secrets.token_hex(16).upper()

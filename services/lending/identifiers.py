"""New identifiers: requestNo (docs/protocols.md), borrowNo and projectNo."""
import uuid


def new_request_no() -> str:
    """``REQ_`` + 32 upper-case hex characters."""
    return "REQ_" + uuid.uuid4().hex.upper()


def new_borrow_no() -> str:
    return "BRW_" + uuid.uuid4().hex.upper()


def new_project_no() -> str:
    return "PRJ_" + uuid.uuid4().hex.upper()

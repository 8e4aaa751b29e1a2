"""The bank's signed view of one request, for the platform's compensation (``/service/query``)."""
from typing import TYPE_CHECKING

from shared import contract
from shared.db import unit_of_work
from shared.errors import NotFound

from bank_sandbox import confirmation
from bank_sandbox import notifications as notes
from bank_sandbox.gateway_requests import check_platform
from bank_sandbox.repository import requests

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys


def signed_view(pool, config: dict, keys: "Keys", platform_no: str, request_no: str) -> dict:
    """The notification the request produced (or a pending one, status 0), signed by the bank.

    Read under the request's row lock, so a confirmation in progress is waited for; a request still
    pending after its expiry is closed as failed (20007) first: the bank never says "pending" about
    a request it can no longer accept.
    """
    check_platform(config, platform_no)
    with unit_of_work(pool) as conn:
        row = requests.lock(conn, request_no)
        if row is not None and row["status"] == contract.STATUS_PENDING and requests.expired(conn, row):
            row = confirmation.close_expired(conn, config, keys, row)
    if row is None:
        raise NotFound("unknown request")
    body = row["notification"] or notes.notification(row["service_name"], row["payload"], contract.STATUS_PENDING,
                                                     notes.PENDING)
    return notes.signed(config, keys, row["service_name"], body)

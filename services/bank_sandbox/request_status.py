"""The bank's signed view of one request, for the platform's compensation (``/service/query``)."""
from typing import TYPE_CHECKING

from shared import contract
from shared.db import unit_of_work

from bank_sandbox import confirmation, transaction_services
from bank_sandbox import notifications as notes
from bank_sandbox.gateway_requests import check_platform
from bank_sandbox.repository import requests
from bank_sandbox.service_results import result_json, signed_answer

if TYPE_CHECKING:
    from bank_sandbox.bootstrap import Keys

UNKNOWN = (contract.RESP_UNKNOWN_REQUEST, "the bank does not know this request")
# The unknown answer also carries, unsigned, the plain error a caller that does not verify it reads.
UNKNOWN_PLAIN = {"code": 908, "msg": "unknown request"}


def signed_view(pool, config: dict, keys: "Keys", platform_no: str, request_no: str) -> tuple[dict, int]:
    """``(answer, HTTP status)``: 200 with the request's notification (or a pending one, status 0) signed by
    the bank as ``{serviceName, platformNo, reqData, signature}``; for a request the bank does not know,
    404 with ``{respData, signature}`` signing ``{requestNo, respCode: 40004, respMsg, status: 0}``, so
    that no proxy's or wrong path's 404 can pass for it.

    Read under the request's locks, so a confirmation or a transaction service in progress is waited
    for (the latter before its row can be seen: an "unknown" is never said about a request being
    recorded); a request still
    pending after its expiry is closed as failed (20007) first: the bank never says "pending" about
    a request it can no longer accept.
    """
    check_platform(config, platform_no)
    with unit_of_work(pool) as conn:
        requests.serialize_on(conn, request_no)
        row = requests.lock(conn, request_no)
        if row is not None and row["status"] == contract.STATUS_PENDING and requests.expired(conn, row):
            row = confirmation.close_expired(conn, config, keys, row)
    if row is None:
        unknown = result_json(request_no, UNKNOWN, contract.STATUS_PENDING)
        return {**signed_answer(config, keys, unknown), **UNKNOWN_PLAIN}, 404
    if row["service_name"] in contract.TRANSACTION_SERVICES:
        body = transaction_services.recorded_result(row)
    else:
        body = row["notification"] or notes.notification(row["service_name"], row["payload"],
                                                         contract.STATUS_PENDING, notes.PENDING)
    return notes.signed(config, keys, row["service_name"], body), 200

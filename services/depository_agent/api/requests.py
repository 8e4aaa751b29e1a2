"""Signed gateway requests for user-center (service token): ``POST /l/consumers``, ``/l/recharges``,
``/l/withdraws``, and ``GET /l/records/<requestNo>``."""
from shared.auth import require_service_token
from shared.contract import REQUEST_NO, REQUEST_NO_RULE
from shared.db import unit_of_work
from shared.errors import BadRequest, RecordNotFound
from shared.money import format_fen
from shared.web import Blueprint

from depository_agent import gateway_requests
from depository_agent.api import refusals, schemas, success
from depository_agent.bootstrap import current
from depository_agent.repository import records

bp = Blueprint("requests", __name__, description="Signed gateway requests for user-center (service token required)")
bp.before_request(require_service_token)

SERVICE_AUTH = {"security": [{"serviceToken": []}]}


def _signing(schema):
    """What every signing endpoint shares: its body schema (one instance, not one per request), the
    GatewayRequest answer, its refusals, the token."""
    def decorate(view):
        view = bp.response(200, schemas.GatewayResponseSchema)(bp.arguments(schema())(view))
        return bp.doc(**SERVICE_AUTH)(refusals(bp, 400, 401, 409)(view))
    return decorate


def _signed(kind: gateway_requests.RequestKind, body: dict) -> dict:
    deps = current()
    return success(gateway_requests.create_gateway_request(
        deps.pool, deps.codec, kind, body, deps.config["MAX_AMOUNT_FEN"], deps.config["GATEWAY_REQUEST_TTL_SECONDS"]))


@bp.post("/l/consumers")
@_signing(schemas.ConsumerRequestSchema)
def create_consumer(body: dict):
    """Sign a PERSONAL_REGISTER request (open a depository account)."""
    return _signed(gateway_requests.CONSUMER_CREATE, body)


@bp.post("/l/recharges")
@_signing(schemas.RechargeRequestSchema)
def create_recharge(body: dict):
    """Sign a RECHARGE request."""
    return _signed(gateway_requests.RECHARGE, body)


@bp.post("/l/withdraws")
@_signing(schemas.WithdrawRequestSchema)
def create_withdraw(body: dict):
    """Sign a WITHDRAW request."""
    return _signed(gateway_requests.WITHDRAW, body)


@bp.get("/l/records/<string:request_no>", parameters=[schemas.RECORD_PATH_PARAMETER])
@bp.response(200, schemas.RecordResponseSchema)
@refusals(bp, 400, 401, 404)
@bp.doc(**SERVICE_AUTH)
def get_record(request_no: str):
    """The depository record of a request."""
    if not REQUEST_NO.fullmatch(request_no):
        raise BadRequest(f"requestNo must be {REQUEST_NO_RULE}")
    with unit_of_work(current().pool) as conn:
        row = records.get(conn, request_no)
    if row is None:
        raise RecordNotFound(f"no depository record {request_no}")
    return success(record_view(row))


def record_view(row: dict) -> dict:
    """A depository_record as the API shows it (amounts in yuan)."""
    return {
        "requestNo": row["request_no"],
        "requestType": row["request_type"],
        "serviceName": row["service_name"],
        "objectType": row["object_type"],
        "objectId": row["object_id"],
        "userNo": row["user_no"],
        "amount": None if row["amount"] is None else format_fen(row["amount"]),
        "commission": None if row["commission"] is None else format_fen(row["commission"]),
        "requestStatus": row["request_status"],
        "resultSource": row["result_source"],
        "confirmDate": row["confirm_date"],
        "requestData": row["request_data"],
        "responseData": row["response_data"],
        "createDate": row["created_at"],
        "updateDate": row["updated_at"],
    }

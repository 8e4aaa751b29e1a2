"""HTTP endpoints: signed gateway requests under /l/ (service auth) and the bank's /gateway."""
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import ValidationError

from shared.auth import require_service_token
from shared.db import unit_of_work
from shared.errors import AppError, BadRequest, RecordNotFound
from shared.money import format_fen
from shared.web import Blueprint, RestErrorSchema, request_data

from depository_agent import gateway_requests, metrics, record_store
from depository_agent.schemas import (
    REQUEST_NO,
    ConsumerRequestSchema,
    GatewayResponseSchema,
    NotificationSchema,
    RechargeRequestSchema,
    RecordResponseSchema,
    WithdrawRequestSchema,
)

requests_bp = Blueprint("requests", __name__, url_prefix="/l",
                        description="Signed gateway requests for user-center (service token required)")
requests_bp.before_request(require_service_token)
gateway_bp = Blueprint("gateway", __name__, description="The bank's asynchronous notifications (bank signature)")

_SERVICE_AUTH = {"security": [{"serviceToken": []}]}


def _success(result: dict) -> dict:
    return {"code": 0, "msg": "success", "result": result}


def _refusals(blueprint: Blueprint, *statuses: int):
    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, schema=RestErrorSchema)(view)
        return view
    return decorate


def _signing_endpoint(path: str, kind: gateway_requests.RequestKind, schema, summary: str) -> None:
    """Register ``POST /l/<path>``: validate the body, record it, answer its signed GatewayRequest."""

    def create(body: dict):
        return _success(gateway_requests.create_gateway_request(
            current_app.extensions["db"], current_app.extensions["wanxin"], kind, body,
            current_app.config["MAX_AMOUNT_FEN"], current_app.config["GATEWAY_REQUEST_TTL_SECONDS"]))

    create.__doc__ = summary
    view = requests_bp.response(200, GatewayResponseSchema)(requests_bp.arguments(schema)(create))
    view = requests_bp.doc(**_SERVICE_AUTH)(_refusals(requests_bp, 400, 401, 409)(view))
    requests_bp.route(path, methods=["POST"], endpoint=f"create_{kind.request_type.lower()}")(view)


_signing_endpoint("/consumers", gateway_requests.CONSUMER_CREATE, ConsumerRequestSchema,
                  "Sign a PERSONAL_REGISTER request (open a depository account).")
_signing_endpoint("/recharges", gateway_requests.RECHARGE, RechargeRequestSchema, "Sign a RECHARGE request.")
_signing_endpoint("/withdraws", gateway_requests.WITHDRAW, WithdrawRequestSchema, "Sign a WITHDRAW request.")


@requests_bp.route("/records/<string:request_no>", methods=["GET"])
@requests_bp.response(200, RecordResponseSchema)
@_refusals(requests_bp, 400, 401, 404)
@requests_bp.doc(**_SERVICE_AUTH)
def get_record(request_no: str):
    """The depository record of a request."""
    try:
        REQUEST_NO(request_no)
    except ValidationError:
        raise BadRequest("requestNo must be REQ_ followed by 32 upper-case hex characters") from None
    with unit_of_work(current_app.extensions["db"]) as conn:
        row = record_store.get(conn, request_no)
    if row is None:
        raise RecordNotFound(f"no depository record {request_no}")
    return _success(record_view(row))


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


_NOTIFICATION_FIELDS = ("serviceName", "platformNo", "reqData", "signature")
_OK_RESPONSE = {"description": "the notification is durably recorded (also for a duplicate)",
                "content": {"text/plain": {"schema": {"type": "string", "enum": ["OK"]}}}}


def _notification_parameters(required: bool) -> list[dict]:
    return [{"name": name, "in": "query", "required": required, "schema": {"type": "string"}}
            for name in _NOTIFICATION_FIELDS]


_FORM_BODY = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": {name: {"type": "string"} for name in _NOTIFICATION_FIELDS}}}}}


_NOTIFICATION_SCHEMA = NotificationSchema()


def receive_notification() -> Response:
    """Verify the bank's notification and settle its record; ``OK`` once committed."""
    try:
        outcome = _settle_notification()
    except AppError as exc:
        if exc.status < 500:
            metrics.count_notification(metrics.REFUSED)
        raise
    metrics.count_notification(outcome)
    return Response("OK", status=200, mimetype="text/plain")


def _one_value_each() -> None:
    """Refuse a notification parameter given twice with different values (in the query string, or in
    the query string and the body): which one counts would depend on the reader."""
    for name in _NOTIFICATION_FIELDS:
        if len(set(request.args.getlist(name)) | set(request.form.getlist(name))) > 1:
            raise BadRequest(f"invalid notification: {name} is given more than once with different values")


def _settle_notification() -> str:
    _one_value_each()
    try:
        message = _NOTIFICATION_SCHEMA.load(request_data())
    except ValidationError as exc:
        raise BadRequest("invalid notification: " + "; ".join(
            f"{field}: {', '.join(map(str, errors))}" for field, errors in exc.messages.items())) from None
    payload = current_app.extensions["wanxin"].open(message)
    return current_app.extensions["settler"].settle(message["serviceName"], payload, "NOTIFICATION")


@gateway_bp.route("/gateway/", endpoint="gateway_with_slash")  # banks built like the original Java depository
@gateway_bp.route("/gateway")
class Gateway(MethodView):
    """The bank's notification, as query parameters (GET or POST) or a form body (POST); ``/gateway/``
    is the same endpoint."""

    @gateway_bp.doc(parameters=_notification_parameters(True), responses={200: _OK_RESPONSE})
    @_refusals(gateway_bp, 400, 404, 409)
    def get(self):
        """Receive a bank notification (query parameters)."""
        return receive_notification()

    @gateway_bp.doc(parameters=_notification_parameters(False), requestBody=_FORM_BODY,
                    responses={200: _OK_RESPONSE})
    @_refusals(gateway_bp, 400, 404, 409)
    def post(self):
        """Receive a bank notification (query parameters or form body)."""
        return receive_notification()

"""The bank's asynchronous notifications: ``GET``/``POST /gateway`` and ``/gateway/`` (bank signature)."""
from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError

from shared.errors import AppError, BadRequest
from shared.web import Blueprint, refuse_head, request_data

from depository_agent.api import metrics
from depository_agent.api import refusals, schemas
from depository_agent.bootstrap import current
from depository_agent.notifications import NOTIFICATION

bp = Blueprint("gateway", __name__, description="The bank's asynchronous notifications (bank signature)")
bp.before_request(refuse_head)  # a HEAD would run the GET, which applies the notification

_NOTIFICATION_FIELDS = tuple(schemas.NotificationSchema().fields)
_NOTIFICATION_SCHEMA = schemas.NotificationSchema()
_OK_RESPONSE = {"description": "the notification is durably recorded (also for a duplicate)",
                "content": {"text/plain": {"schema": {"type": "string", "enum": ["OK"]}}}}
_FORM_BODY = {"required": True, "description": "the same four fields as a form (each given once: in the query "
                                               "string or the body, or in both with the same value)",
              "content": {"application/x-www-form-urlencoded": {"schema": schemas.NotificationSchema}}}


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
    deps = current()
    payload = deps.codec.open(message)
    return deps.settler.settle(message["serviceName"], payload, NOTIFICATION)


@bp.route("/gateway/", endpoint="gateway_with_slash")  # banks built like the original Java depository
@bp.route("/gateway")
class Gateway(MethodView):
    """The bank's notification, as query parameters (GET or POST) or a form body (POST); ``/gateway/``
    is the same endpoint."""

    @bp.doc(parameters=[{"in": "query", "schema": schemas.NotificationSchema}], responses={200: _OK_RESPONSE})
    @refusals(bp, 400, 404, 409)
    def get(self):
        """Receive a bank notification (query parameters)."""
        return receive_notification()

    @bp.doc(requestBody=_FORM_BODY, responses={200: _OK_RESPONSE})
    @refusals(bp, 400, 404, 409)
    def post(self):
        """Receive a bank notification (a form body, or the same four fields as query parameters)."""
        return receive_notification()

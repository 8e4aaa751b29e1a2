"""HTTP endpoints the bank calls: two background callbacks and two page callbacks.

Fields are decoded by :mod:`bank_callback.wire` (query string and form body, one rule for both),
verified by :mod:`bank_callback.huifu`, then handed to :mod:`bank_callback.callbacks`; page
callbacks only redirect. Anomalies met on the way are recorded (:mod:`bank_callback.anomalies`).
"""
from typing import Callable

from flask import Response, current_app, redirect, request
from flask.views import MethodView

from shared.web import Blueprint

from bank_callback import anomalies, callbacks
from bank_callback.huifu import NET_SAVE, USER_REGISTER, Command, signed_values
from bank_callback.pages import NETSAVE_ROUTE, REGISTER_ROUTE, frontend_redirect
from bank_callback.schemas import RECEIPT, NetSaveSchema, RefusalSchema, UserRegisterSchema
from bank_callback.wire import FORM, callback_fields

bp = Blueprint("huifu", __name__, description="Huifu-style bank callbacks (SPEC section 6)")


def _receive(command: Command, handle: Callable[[dict, dict], Response]) -> Response:
    """Decode and verify the request as a ``command`` callback, then ``handle(extensions, fields)``."""
    fields = callback_fields(request)
    extensions = current_app.extensions
    with anomalies.recorded(extensions["db"], command.name, signed_values(command, fields), fields):
        return handle(extensions, extensions["huifu_verifier"].verify(command, fields))


def _documented(schema, success, with_form: bool = True):
    """The OpenAPI description of a callback: its fields in the query (and form body), its answers."""
    doc = {"parameters": [{"in": "query", "schema": schema}]}
    if with_form:
        doc["requestBody"] = {"required": False, "content": {FORM: {"schema": schema}}}
    decorators = [bp.doc(**doc), success,
                  bp.alt_response(400, schema=RefusalSchema, description="not verified, invalid or ambiguous"),
                  bp.alt_response(409, schema=RefusalSchema, description="contradicts what is stored (an anomaly)"),
                  bp.alt_response(503, schema=RefusalSchema, description="database unavailable; retry")]
    if with_form:
        decorators.append(bp.alt_response(415, schema=RefusalSchema, description="a body that is not a UTF-8 form"))

    def apply(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view
    return apply


_RECEIPT = bp.response(200, RECEIPT, content_type="text/plain", description="RECV_ORD_ID_<TrxId>: durably stored")
_REDIRECT = bp.response(302, description="to the frontend route with RespCode and the platform's RespDesc")


def _receipt(text: str) -> Response:
    return Response(text, status=200, mimetype="text/plain")


@bp.route("/register", methods=["POST"])
@_documented(UserRegisterSchema, _RECEIPT)
def register():
    """UserRegister background callback: bind openid to the bank customer id."""
    return _receive(USER_REGISTER, lambda extensions, fields: _receipt(
        callbacks.record_registration(extensions["db"], extensions["customer_cache"], fields)))


@bp.route("/netsave", methods=["POST"])
@_documented(NetSaveSchema, _RECEIPT)
def netsave():
    """NetSave background callback: store the recharge for the crediting worker."""
    return _receive(NET_SAVE, lambda extensions, fields: _receipt(callbacks.record_netsave(extensions["db"], fields)))


def _page_view(command: Command, route: str, schema):
    """A GET/POST page callback that verifies, then redirects the browser to ``route``."""

    def send(extensions, fields):
        callbacks.check_page_callback(extensions["db"], command, fields)
        location = frontend_redirect(current_app.config["FRONTEND_URL"], route, command, fields["RespCode"])
        return redirect(location, 302)

    class PageCallback(MethodView):
        @_documented(schema, _REDIRECT, with_form=False)
        def get(self):
            return _receive(command, send)

        @_documented(schema, _REDIRECT)
        def post(self):
            return _receive(command, send)

    PageCallback.__doc__ = f"{command.name} page callback: verify, then 302 to the frontend's #/{route}."
    return PageCallback


bp.route("/RegisterCallback")(_page_view(USER_REGISTER, REGISTER_ROUTE, UserRegisterSchema))
bp.route("/NetSaveCallback")(_page_view(NET_SAVE, NETSAVE_ROUTE, NetSaveSchema))

"""HTTP endpoints the bank calls: two background callbacks and two page callbacks.

Fields are read from the query string and the form body (the body wins), verified, then handed
to :mod:`bank_callback.callbacks`; page callbacks only redirect.
"""
from flask import Response, current_app, redirect
from flask.views import MethodView

from shared.web import Blueprint

from bank_callback import callbacks
from bank_callback.huifu import NET_SAVE, USER_REGISTER, Command
from bank_callback.pages import NETSAVE_ROUTE, REGISTER_ROUTE, frontend_redirect
from bank_callback.schemas import RECEIPT, NetSaveSchema, RefusalSchema, UserRegisterSchema

bp = Blueprint("huifu", __name__, description="Huifu-style bank callbacks (SPEC section 6)")


def _verified(command: Command, query: dict, form: dict | None = None) -> dict:
    return current_app.extensions["huifu_verifier"].verify(command, {**query, **(form or {})})


def _documented(schema, success, with_form: bool = True, conflicts: bool = False):
    """The decorators of a callback: its fields from query (and form), its answers."""
    decorators = [bp.arguments(schema, location="query")]
    if with_form:
        decorators.append(bp.arguments(schema, location="form", required=False))
    decorators += [success, bp.alt_response(400, schema=RefusalSchema, description="not verified or invalid")]
    if conflicts:
        decorators += [bp.alt_response(409, schema=RefusalSchema, description="contradicts what is stored"),
                       bp.alt_response(503, schema=RefusalSchema, description="database unavailable; retry")]

    def apply(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view
    return apply


_RECEIPT = bp.response(200, RECEIPT, content_type="text/plain", description="RECV_ORD_ID_<TrxId>: durably stored")
_REDIRECT = bp.response(302, description="to the frontend route with RespCode and RespDesc")


def _receipt(text: str) -> Response:
    return Response(text, status=200, mimetype="text/plain")


@bp.route("/register", methods=["POST"])
@_documented(UserRegisterSchema, _RECEIPT, conflicts=True)
def register(query, form):
    """UserRegister background callback: bind openid to the bank customer id."""
    fields = _verified(USER_REGISTER, query, form)
    extensions = current_app.extensions
    return _receipt(callbacks.record_registration(extensions["db"], extensions["customer_cache"], fields))


@bp.route("/netsave", methods=["POST"])
@_documented(NetSaveSchema, _RECEIPT, conflicts=True)
def netsave(query, form):
    """NetSave background callback: store the recharge for the crediting worker."""
    fields = _verified(NET_SAVE, query, form)
    return _receipt(callbacks.record_netsave(current_app.extensions["db"], fields, current_app.config["MAX_AMOUNT_FEN"]))


def _page_view(command: Command, route: str, schema):
    """A GET/POST page callback that verifies, then redirects the browser to ``route``."""

    def send(query, form=None):
        fields = _verified(command, query, form)
        return redirect(frontend_redirect(current_app.config["FRONTEND_URL"], route, fields), 302)

    class PageCallback(MethodView):
        @_documented(schema, _REDIRECT, with_form=False)
        def get(self, query):
            return send(query)

        @_documented(schema, _REDIRECT)
        def post(self, query, form):
            return send(query, form)

    PageCallback.__doc__ = f"{command.name} page callback: verify, then 302 to the frontend's #/{route}."
    return PageCallback


bp.route("/RegisterCallback")(_page_view(USER_REGISTER, REGISTER_ROUTE, UserRegisterSchema))
bp.route("/NetSaveCallback")(_page_view(NET_SAVE, NETSAVE_ROUTE, NetSaveSchema))

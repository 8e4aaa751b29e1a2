"""The page callbacks: the user's browser, back from the bank's page, is verified like a background
callback and sent on to the platform's frontend with the platform's own text for the (signed) RespCode
(docs/protocols.md, the Huifu channel). They store nothing."""
from flask import redirect
from flask.views import MethodView

from shared.web import Blueprint

from bank_callback import callbacks
from bank_callback.api import schemas
from bank_callback.api.receiving import receive
from bank_callback.bootstrap import dependencies
from bank_callback.huifu import NET_SAVE, USER_REGISTER, Command

bp = Blueprint("page_callbacks", __name__, description="the browser back from the bank's pages: verified, then sent"
                                                       " on to the frontend")
_REDIRECT = {"description": "to the frontend route with RespCode and the platform's RespDesc",
             "headers": schemas.LOCATION}


def _send_on(command: Command):
    deps = dependencies()
    return receive(command, lambda fields: redirect(
        callbacks.page_redirect(deps.pool, command, fields, deps.frontend), 302))


@bp.route("/RegisterCallback")
class RegisterPage(MethodView):
    """UserRegister page callback: verify, then 302 to the frontend's #/BankUserRegisterCallback."""

    @bp.doc(parameters=schemas.query(schemas.UserRegisterForm))
    @bp.response(302, **_REDIRECT)
    @schemas.refusals(bp, form=False)
    def get(self):
        """UserRegister page callback, its fields in the query string."""
        return _send_on(USER_REGISTER)

    @bp.doc(requestBody=schemas.form_body(schemas.UserRegisterForm))
    @bp.response(302, **_REDIRECT)
    @schemas.refusals(bp)
    def post(self):
        """UserRegister page callback, its fields in a form."""
        return _send_on(USER_REGISTER)


@bp.route("/NetSaveCallback")
class NetSavePage(MethodView):
    """NetSave page callback: verify, then 302 to the frontend's #/NetSaveCallback."""

    @bp.doc(parameters=schemas.query(schemas.NetSaveForm))
    @bp.response(302, **_REDIRECT)
    @schemas.refusals(bp, form=False)
    def get(self):
        """NetSave page callback, its fields in the query string."""
        return _send_on(NET_SAVE)

    @bp.doc(requestBody=schemas.form_body(schemas.NetSaveForm))
    @bp.response(302, **_REDIRECT)
    @schemas.refusals(bp)
    def post(self):
        """NetSave page callback, its fields in a form."""
        return _send_on(NET_SAVE)

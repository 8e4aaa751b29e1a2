"""The background callbacks the bank sends (docs/protocols.md, the Huifu channel): verified, stored
durably, and only then acknowledged with ``RECV_ORD_ID_<TrxId>``."""
from flask import Response

from shared.web import Blueprint

from bank_callback import callbacks
from bank_callback.api import schemas
from bank_callback.api.receiving import receive
from bank_callback.bootstrap import dependencies
from bank_callback.huifu import NET_SAVE, USER_REGISTER

bp = Blueprint("background_callbacks", __name__, description="the bank's background callbacks: stored, then "
                                                             "acknowledged")
_RECEIPT = {"content_type": "text/plain", "description": "RECV_ORD_ID_<TrxId>: the callback is durably stored"}


def _receipt(text: str) -> Response:
    return Response(text, status=200, mimetype="text/plain")


@bp.post("/register")
@bp.doc(requestBody=schemas.form_body(schemas.UserRegisterForm))
@bp.response(200, schemas.RECEIPT, **_RECEIPT)
@schemas.refusals(bp)
def register():
    """UserRegister background callback: bind openid to the bank customer id."""
    deps = dependencies()
    return receive(USER_REGISTER, lambda fields: _receipt(
        callbacks.record_registration(deps.pool, deps.cache, fields)))


@bp.post("/netsave")
@bp.doc(requestBody=schemas.form_body(schemas.NetSaveForm))
@bp.response(200, schemas.RECEIPT, **_RECEIPT)
@schemas.refusals(bp)
def netsave():
    """NetSave background callback: store the recharge for the crediting worker."""
    return receive(NET_SAVE, lambda fields: _receipt(callbacks.record_netsave(dependencies().pool, fields)))

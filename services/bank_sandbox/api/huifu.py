"""The Huifu channel's user actions: register and recharge (netsave), each answered by a callback."""
from shared.web import Blueprint

from bank_sandbox import huifu
from bank_sandbox.api import schemas
from bank_sandbox.bootstrap import dependencies

bp = Blueprint("huifu", __name__, url_prefix="", description="Huifu-style register and recharge")


@bp.route("/huifu/register", methods=["POST"])
@bp.arguments(schemas.HuifuRegister)
@bp.response(200, schemas.HuifuAnswer)
def register(body):
    """Open a Huifu customer; the bank sends the signed UserRegister callback to bank-callback."""
    deps = dependencies()
    return huifu.register(deps.pool, deps.config, deps.keys, body["usrId"], body["usrName"], body["outcome"],
                          body["merPriv"])


@bp.route("/huifu/netsave", methods=["POST"])
@bp.arguments(schemas.HuifuNetsave)
@bp.response(200, schemas.HuifuAnswer)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown usrCustId")
@bp.alt_response(409, schema=schemas.ErrorReply, description="ordId already used for another recharge")
def netsave(body):
    """Recharge from the customer's card; the bank sends the signed NetSave callback to bank-callback."""
    deps = dependencies()
    return huifu.netsave(deps.pool, deps.config, deps.keys, body["usrCustId"], body["amount"], body.get("ordId"),
                         body["outcome"], body["merPriv"])

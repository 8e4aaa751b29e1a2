"""The bank's server API for the platform: a request's signed status, balances, daily statements."""
from shared.web import Blueprint

from bank_sandbox import balances, request_status, statements
from bank_sandbox.api import schemas
from bank_sandbox.bootstrap import dependencies

bp = Blueprint("bank", __name__, url_prefix="", description="Queries for compensation and reconciliation")


@bp.route("/service/query", methods=["GET"])
@bp.arguments(schemas.ServiceQuery, location="query")
@bp.response(200, schemas.SignedMessage)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown request")
def service_query(args):
    """The bank's signed view of one request (status 0 pending, 1 success, 2 failure)."""
    deps = dependencies()
    return request_status.signed_view(deps.pool, deps.config, deps.keys, args["platformNo"], args["requestNo"])


@bp.route("/balance-details/<string:user_no>", methods=["GET"])
@bp.response(200, schemas.Balance)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown bank user")
def balance_details(user_no):
    """A bank user's depository account balance."""
    return balances.balance(dependencies().pool, user_no)


@bp.route("/statements", methods=["GET"])
@bp.arguments(schemas.StatementQuery, location="query")
@bp.response(200, schemas.Statement)
def statement(args):
    """The day's successful recharges and withdrawals, for reconciliation."""
    deps = dependencies()
    return statements.statement(deps.pool, deps.config, args["platformNo"], args["date"])

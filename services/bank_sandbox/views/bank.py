"""The bank's read-only endpoints: a request's signed status, balances, daily statements."""
from flask import current_app

from shared.web import Blueprint

from bank_sandbox.domain import queries
from bank_sandbox.views import schemas

bp = Blueprint("bank", __name__, url_prefix="", description="Queries for compensation and reconciliation")


@bp.route("/service/query", methods=["GET"])
@bp.arguments(schemas.ServiceQuery, location="query")
@bp.response(200, schemas.SignedMessage)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown request")
def service_query(args):
    """The bank's signed view of one request (status 0 pending, 1 success, 2 failure)."""
    return queries.signed_request_view(current_app.extensions["db"], current_app.config, args["platformNo"],
                                       args["requestNo"])


@bp.route("/balance-details/<string:user_no>", methods=["GET"])
@bp.response(200, schemas.Balance)
@bp.alt_response(404, schema=schemas.ErrorReply, description="unknown bank user")
def balance_details(user_no):
    """A bank user's depository account balance."""
    return queries.balance(current_app.extensions["db"], user_no)


@bp.route("/statements", methods=["GET"])
@bp.arguments(schemas.StatementQuery, location="query")
@bp.response(200, schemas.Statement)
def statements(args):
    """The day's successful recharges and withdrawals, for reconciliation."""
    return queries.statement(current_app.extensions["db"], current_app.config, args["platformNo"], args["date"])

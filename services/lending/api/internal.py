"""Reads for the platform's own services (service token): user-center's "我的借款" page reads a borrower's
loans and plans here."""
from shared.auth import require_service_token
from shared.web import Blueprint, ErrorSchema

from lending import loans
from lending.api import schemas
from lending.bootstrap import dependencies

bp = Blueprint("internal", __name__, description="for the platform's services (service token)")
bp.before_request(require_service_token)


@bp.get("/internal/loans")
@bp.arguments(schemas.LoansQuery, location="query")
@bp.response(200, schemas.LoansData)
@bp.alt_response(400, schema=ErrorSchema, description="userNo missing or malformed")
@bp.alt_response(401, schema=ErrorSchema, description="no or wrong service token")
@bp.doc(security=[{"serviceToken": []}])
def loans_of_user(args):
    """A borrower's loans (newest first) with their plans as they stand today."""
    return loans.loans_of(dependencies(), args["user_no"])

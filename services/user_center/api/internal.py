"""Endpoints for the platform's other services (service token): reconciliation reads records here."""
from shared.auth import require_service_token
from shared.web import Blueprint

from user_center import reconciliation
from user_center.api.responses import ok
from user_center.api.schemas import ErrorResponse, InternalRecordPage, InternalRecordsQuery, envelope
from user_center.bootstrap import dependencies

bp = Blueprint("internal", __name__,
               description="records for the platform's own services (service token required)")
bp.before_request(require_service_token)


@bp.get("/internal/records")
@bp.arguments(InternalRecordsQuery(), location="query")
@bp.response(200, envelope("InternalRecordsResponse", InternalRecordPage))
@bp.alt_response(400, schema=ErrorResponse, description="neither requestNo nor from/to, or too many")
@bp.alt_response(401, schema=ErrorResponse, description="no or wrong service token")
@bp.doc(security=[{"serviceToken": []}])
def records(args):
    """Recharge and withdraw records by ``requestNo`` (repeatable) or created/updated in ``[from, to)``."""
    pool = dependencies().pool
    if args.get("requestNo"):
        return ok(reconciliation.by_request_nos(pool, args["requestNo"]))
    return ok(reconciliation.between(pool, args["start"], args["end"], args["page"], args["size"]))

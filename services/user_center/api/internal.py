"""Endpoints for the platform's other services (service token): reconciliation reads records here; lending
finds or creates its borrowers, reads their depository status and gets their one-time open-account links."""
from shared.auth import require_service_token
from shared.errors import NotFound
from shared.web import Blueprint

from user_center import borrowers, reconciliation
from user_center.api.responses import ok
from user_center.api.schemas import (USER_NO, ConsumerIn, ConsumerStatus, ErrorResponse, InternalRecordPage,
                                     InternalRecordsQuery, OpenAccountLink, OpenAccountLinkIn, envelope)
from user_center.bootstrap import dependencies

bp = Blueprint("internal", __name__,
               description="records and lending's borrowers, for the platform's own services (service token required)")
bp.before_request(require_service_token)
ConsumerStatusResponse = envelope("ConsumerStatusResponse", ConsumerStatus)
UNAUTHORIZED = "no or wrong service token"


@bp.get("/internal/records")
@bp.arguments(InternalRecordsQuery(), location="query")
@bp.response(200, envelope("InternalRecordsResponse", InternalRecordPage))
@bp.alt_response(400, schema=ErrorResponse, description="neither requestNo nor from/to, or too many")
@bp.alt_response(401, schema=ErrorResponse, description=UNAUTHORIZED)
@bp.doc(security=[{"serviceToken": []}])
def records(args):
    """Recharge and withdraw records by ``requestNo`` (repeatable) or created/updated in ``[from, to)``."""
    pool = dependencies().pool
    if args.get("requestNo"):
        return ok(reconciliation.by_request_nos(pool, args["requestNo"]))
    return ok(reconciliation.between(pool, args["start"], args["end"], args["page"], args["size"]))


@bp.post("/internal/consumers")
@bp.arguments(ConsumerIn())
@bp.response(200, ConsumerStatusResponse, description="found by mobile")
@bp.alt_response(201, schema=ConsumerStatusResponse, description="created, without a password")
@bp.alt_response(400, schema=ErrorResponse, description="a field missing or malformed")
@bp.alt_response(401, schema=ErrorResponse, description=UNAUTHORIZED)
@bp.alt_response(409, schema=ErrorResponse, description="the mobile belongs to someone with another ID number")
@bp.doc(security=[{"serviceToken": []}])
def find_or_create_consumer(args):
    """lending's borrower by mobile: found (200) or created (201); one user per mobile under concurrent calls."""
    user, created = borrowers.find_or_create(dependencies().pool, args["mobile"], args["fullname"],
                                             args["id_number"].upper())
    return ok(user), 201 if created else 200


@bp.get("/internal/consumers/<user_no>")
@bp.response(200, ConsumerStatusResponse)
@bp.alt_response(401, schema=ErrorResponse, description=UNAUTHORIZED)
@bp.alt_response(404, schema=ErrorResponse, description="no such user")
@bp.doc(security=[{"serviceToken": []}])
def consumer_status(user_no):
    """A user's depository account status (NONE, PENDING, OPENED, FAILED)."""
    if USER_NO.regex.fullmatch(user_no) is None:
        raise NotFound("no such user")
    return ok(borrowers.status(dependencies().pool, user_no))


@bp.post("/internal/open-account-links")
@bp.arguments(OpenAccountLinkIn())
@bp.response(200, envelope("OpenAccountLinkResponse", OpenAccountLink))
@bp.alt_response(400, schema=ErrorResponse, description="a field missing or malformed, validMinutes above 30")
@bp.alt_response(401, schema=ErrorResponse, description=UNAUTHORIZED)
@bp.alt_response(404, schema=ErrorResponse, description="no such user")
@bp.alt_response(409, schema=ErrorResponse, description="the ID number is not the user's")
@bp.doc(security=[{"serviceToken": []}])
def open_account_link(args):
    """A one-time link that signs the user in and sends the browser to the bank's account-opening page
    (PERSONAL_REGISTER built from these fields); only the account's opening when it is not open yet."""
    deps = dependencies()
    link = {name: args[name] for name in ("user_no", "fullname", "mobile", "bank_code", "card_number", "role")}
    link["id_number"] = args["id_number"].upper()
    return ok(borrowers.create_link(deps.pool, deps.config["USER_CENTER_PUBLIC_URL"], link, args["valid_minutes"]))

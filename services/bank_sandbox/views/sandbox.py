"""/sandbox/*: confirming without a browser (public, it needs the transaction password) and the
fault knobs (service token)."""
from flask import current_app

from shared.auth import require_service_token
from shared.db import unit_of_work
from shared.errors import BadRequest
from shared.web import Blueprint

from bank_sandbox.domain import confirmation, gateway_request
from bank_sandbox.domain.faults import validated
from bank_sandbox.domain.outbox import current_faults
from bank_sandbox.repositories import faults as fault_store
from bank_sandbox.views import schemas

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", description="Confirm a request without a browser")
admin = Blueprint("sandbox-faults", __name__, url_prefix="/sandbox", description="Fault knobs (service token)")
admin.before_request(require_service_token)


@bp.route("/confirm", methods=["POST"])
@bp.arguments(schemas.ConfirmRequest)
@bp.response(200, schemas.Confirmation)
@bp.alt_response(401, schema=schemas.ErrorReply, description="wrong transaction password, nothing changed")
@bp.alt_response(409, schema=schemas.ErrorReply, description="the request is already final, or requestNo reused")
def confirm(body):
    """Verify the signed request, record it, and confirm it as the user would on the bank page."""
    config = current_app.config
    pool = current_app.extensions["db"]
    verified = gateway_request.verify(config, body["platformNo"], body["reqData"], body["signature"],
                                      body.get("serviceName"))
    confirmation.record(pool, verified)
    return confirmation.confirm(pool, config, verified.request_no, body["password"], body["outcome"]).as_json()


@admin.route("/faults", methods=["GET"])
@admin.response(200, schemas.FaultsView)
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def show_faults():
    """The fault knobs in force."""
    return _faults_view()


@admin.route("/faults", methods=["POST"])
@admin.arguments(schemas.Faults)
@admin.response(200, schemas.FaultsView)
@admin.alt_response(400, schema=schemas.ErrorReply, description="no knob named, or a value out of range")
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def set_faults(changes):
    """Change some knobs (the others keep their values); they apply to every process of the bank."""
    if not changes:
        raise BadRequest("name at least one fault knob to change")
    with unit_of_work(current_app.extensions["db"]) as conn:
        new = validated(current_faults(conn, current_app.config), changes)
        fault_store.put(conn, new.as_json())
    return _faults_view()


@admin.route("/faults", methods=["DELETE"])
@admin.response(200, schemas.FaultsView)
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def reset_faults():
    """Back to the knobs of the configuration."""
    with unit_of_work(current_app.extensions["db"]) as conn:
        fault_store.clear(conn)
    return _faults_view()


def _faults_view() -> dict:
    with unit_of_work(current_app.extensions["db"]) as conn:
        stored = fault_store.get(conn)
        faults = current_faults(conn, current_app.config)
    return {**faults.as_json(), "source": "api" if stored else "configuration"}

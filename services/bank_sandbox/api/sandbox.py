"""The sandbox's own endpoints: confirming without a browser (public, it needs the transaction password),
the bank's totals (public) and the fault knobs (service token)."""
from shared.auth import require_service_token
from shared.web import Blueprint

from bank_sandbox import balances, confirmation, faults, gateway_requests
from bank_sandbox.api import schemas
from bank_sandbox.bootstrap import dependencies

bp = Blueprint("sandbox", __name__, url_prefix="", description="Confirm a request without a browser")
admin = Blueprint("sandbox-faults", __name__, url_prefix="", description="Fault knobs (service token)")
admin.before_request(require_service_token)


@bp.route("/sandbox/confirm", methods=["POST"])
@bp.arguments(schemas.ConfirmRequest)
@bp.response(200, schemas.Confirmation)
@bp.alt_response(401, schema=schemas.ErrorReply, description="wrong transaction password, nothing changed")
@bp.alt_response(409, schema=schemas.ErrorReply, description="the request is already final, or requestNo reused")
def confirm(body):
    """Verify the signed request, record it, and confirm it as the user would on the bank page."""
    deps = dependencies()
    verified = gateway_requests.verify(deps.config, deps.keys, body["platformNo"], body["reqData"], body["signature"],
                                       body.get("serviceName"))
    confirmation.record(deps.pool, verified)
    return confirmation.confirm(deps.pool, deps.config, deps.keys, verified.request_no, body["password"],
                                body["outcome"]).as_json()


@bp.route("/sandbox/totals", methods=["GET"])
@bp.response(200, schemas.Totals)
def totals():
    """The bank's money added up: it only ever moves, so ``total`` changes only when a user is opened."""
    deps = dependencies()
    return balances.totals(deps.pool, deps.config)


@admin.route("/sandbox/faults", methods=["GET"])
@admin.response(200, schemas.FaultsView)
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def show_faults():
    """The fault knobs in force."""
    deps = dependencies()
    return faults.view(deps.pool, deps.config)


@admin.route("/sandbox/faults", methods=["POST"])
@admin.arguments(schemas.Faults)
@admin.response(200, schemas.FaultsView)
@admin.alt_response(400, schema=schemas.ErrorReply, description="no knob named, or a value out of range")
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def set_faults(changes):
    """Change some knobs (the others keep their values); they apply to every process of the bank."""
    deps = dependencies()
    return faults.change(deps.pool, deps.config, changes)


@admin.route("/sandbox/faults", methods=["DELETE"])
@admin.response(200, schemas.FaultsView)
@admin.alt_response(401, schema=schemas.ErrorReply, description="service token required")
def reset_faults():
    """Back to the knobs of the configuration."""
    deps = dependencies()
    return faults.reset(deps.pool, deps.config)

"""The simulation's controls: push orders, drive a loan's partner calls, read an order, set fault knobs."""
from flask import current_app

from shared.auth import require_service_token
from shared.web import Blueprint, ErrorSchema

from partner_sandbox import callbacks, simulation
from partner_sandbox.api import schemas

bp = Blueprint("sim", __name__, description="the simulated partner's controls")


def _deps():
    return current_app.extensions["sandbox"]


@bp.route("/sim/orders", methods=["POST"])
@bp.arguments(schemas.NewOrder)
@bp.response(201, schemas.Pushed)
@bp.alt_response(400, schema=ErrorSchema)
def push_order(order):
    """Push a new signed order to lending; ``{orderNo}`` and lending's answer."""
    deps = _deps()
    return simulation.push(deps.pool, deps.lending, order)


@bp.route("/sim/orders/<order_no>", methods=["GET"])
@bp.response(200, schemas.OrderView)
def order_view(order_no):
    """The callbacks received for an order (whoever pushed it), the calls made, and the query APIs' answers."""
    deps = _deps()
    return simulation.view(deps.pool, deps.lending, order_no)


@bp.route("/sim/orders/<order_no>/bind-card", methods=["POST"])
@bp.arguments(schemas.Card)
@bp.response(200, schemas.LendingAnswer)
def bind_card(card, order_no):
    """card/bind (defaults: an ICBC card and the order's mobile); lending's answer."""
    deps = _deps()
    return simulation.bind_card(deps.pool, deps.lending, order_no, card)


@bp.route("/sim/orders/<order_no>/confirm", methods=["POST"])
@bp.response(200, schemas.LendingAnswer)
def confirm(order_no):
    """loan/confirm; lending's answer (with the one-time openAccountUrl while the account is not open)."""
    deps = _deps()
    return simulation.confirm(deps.pool, deps.lending, order_no)


@bp.route("/sim/orders/<order_no>/repay", methods=["POST"])
@bp.arguments(schemas.RepayIn)
@bp.response(200, schemas.RepayAnswers)
def repay(body, order_no):
    """repay/trial, then repay of exactly that amount with a new repayNo; both answers."""
    deps = _deps()
    return simulation.repay(deps.pool, deps.lending, order_no, body["periods"])


@bp.route("/sim/faults", methods=["GET"])
@bp.response(200, schemas.FaultsView)
def faults_view():
    """The fault knobs in force."""
    deps = _deps()
    return callbacks.faults(deps.pool, deps.config)


@bp.route("/sim/faults", methods=["POST"])
@bp.arguments(schemas.Faults)
@bp.response(200, schemas.FaultsView)
@bp.alt_response(401, schema=ErrorSchema)
@bp.doc(security=[{"serviceToken": []}])
def set_faults(knobs):
    """Fail the first N deliveries of each callback; answer each callback after a delay (service token)."""
    require_service_token()
    return callbacks.set_faults(_deps().pool, knobs["fail_first"], knobs["delay_ms"])

"""The simulation's controls: push orders, drive a loan's partner calls, read an order, set fault knobs."""
from shared.auth import require_service_token
from shared.web import Blueprint, ErrorSchema

from partner_sandbox import callbacks, simulation
from partner_sandbox.api import schemas
from partner_sandbox.bootstrap import dependencies

bp = Blueprint("sim", __name__, description="the simulated partner's controls")


@bp.post("/sim/orders")
@bp.arguments(schemas.NewOrder)
@bp.response(201, schemas.Pushed)
@bp.alt_response(400, schema=ErrorSchema, description="a field missing or outside its documented format")
def push_order(order):
    """Push a new signed order to lending; ``{orderNo}`` and lending's answer (a refusal included)."""
    return simulation.push(dependencies(), order)


@bp.get("/sim/orders/<order_no>")
@bp.response(200, schemas.OrderView)
def order_view(order_no):
    """The callbacks received for an order (whoever pushed it), the calls made, and the query APIs' answers."""
    return simulation.view(dependencies(), order_no)


@bp.post("/sim/orders/<order_no>/bind-card")
@bp.arguments(schemas.Card)
@bp.response(200, schemas.LendingAnswer)
@bp.alt_response(400, schema=ErrorSchema, description="a field outside its documented format")
def bind_card(card, order_no):
    """card/bind (defaults: an ICBC card and the order's mobile); lending's answer."""
    return simulation.bind_card(dependencies(), order_no, card)


@bp.post("/sim/orders/<order_no>/confirm")
@bp.response(200, schemas.LendingAnswer)
def confirm(order_no):
    """loan/confirm; lending's answer (with the one-time openAccountUrl while the account is not open)."""
    return simulation.confirm(dependencies(), order_no)


@bp.post("/sim/orders/<order_no>/repay")
@bp.arguments(schemas.RepayIn)
@bp.response(200, schemas.RepayAnswers)
@bp.alt_response(400, schema=ErrorSchema, description="periods missing or malformed")
def repay(body, order_no):
    """repay/trial, then repay of exactly that amount with a new repayNo; both answers."""
    return simulation.repay(dependencies(), order_no, body["periods"])


@bp.get("/sim/faults")
@bp.response(200, schemas.FaultsView)
def faults_view():
    """The fault knobs in force."""
    deps = dependencies()
    return callbacks.faults(deps.pool, deps.config)


@bp.post("/sim/faults")
@bp.arguments(schemas.Faults)
@bp.response(200, schemas.FaultsView)
@bp.alt_response(400, schema=ErrorSchema, description="a knob missing or out of range")
@bp.alt_response(401, schema=ErrorSchema, description="no or wrong service token")
@bp.doc(security=[{"serviceToken": []}])
def set_faults(knobs):
    """Fail the first N deliveries of each callback; answer each callback after a delay (service token)."""
    require_service_token()
    return callbacks.set_faults(dependencies().pool, knobs["fail_first"], knobs["delay_ms"])

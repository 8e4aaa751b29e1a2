"""The credit data lending pulls for an order."""
from shared.errors import NotFound
from shared.web import Blueprint

from partner_sandbox import credit_data

bp = Blueprint("data", __name__, description="credit data, made up for any orderNo")


@bp.route("/data/<order_no>/<kind>", methods=["GET"])
@bp.response(200)
def credit(order_no, kind):
    """``operator``, ``creditcard`` or ``device`` data of an order."""
    data = credit_data.made_up(order_no, kind)
    if data is None:
        raise NotFound(f"no credit data kind {kind}: operator, creditcard or device")
    return data

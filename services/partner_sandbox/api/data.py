"""The credit data lending pulls for an order."""
from shared.contract import CREDIT_DATA_KINDS
from shared.errors import NotFound
from shared.web import Blueprint, ErrorSchema

from partner_sandbox import credit_data

bp = Blueprint("data", __name__, description="credit data, made up for any orderNo")


@bp.get("/data/<order_no>/<kind>")
@bp.response(200, description="a JSON object with the orderNo and that kind's figures")
@bp.alt_response(404, schema=ErrorSchema, description="another kind than operator, creditcard or device")
@bp.doc(parameters=[{"in": "path", "name": "kind", "required": True,
                     "schema": {"type": "string", "enum": list(CREDIT_DATA_KINDS)}}])
def credit(order_no, kind):
    """``operator``, ``creditcard`` or ``device`` data of an order."""
    data = credit_data.made_up(order_no, kind)
    if data is None:
        raise NotFound(f"no credit data kind {kind}: operator, creditcard or device")
    return data

"""The agreement pages the partner's app links to (``agreements``)."""
from flask import Blueprint, abort, make_response, render_template, request

from lending import TEMPLATES_DIR
from lending.api.schemas import KEY
from lending.orders import AGREEMENTS

bp = Blueprint("agreements", __name__, template_folder=str(TEMPLATES_DIR))
# Text only: no script, no form, never inside another site's frame.
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_TITLES = dict(AGREEMENTS)


@bp.get("/agreements/<slug>")
def agreement(slug: str):
    """One agreement's text, for an order when ``orderNo`` is given."""
    order_no = request.args.get("orderNo", "")
    if slug not in _TITLES:
        abort(404)
    if order_no and KEY.regex.fullmatch(order_no) is None:
        abort(400)
    response = make_response(render_template("agreement.html", title=_TITLES[slug], order_no=order_no))
    response.headers.update({"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff"})
    return response

"""The sandbox's page: the orders it pushed and the callbacks lending sent, with forms to walk a loan by
hand (push, bind a card, confirm, open the account through the link, repay). No script on the page."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request
from marshmallow import ValidationError

from partner_sandbox import TEMPLATES_DIR, simulation
from partner_sandbox.api.schemas import Card, NewOrder, RepayIn
from partner_sandbox.repository import callbacks, orders

bp = Blueprint("pages", __name__, template_folder=str(TEMPLATES_DIR))
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
ACTIONS = ("bind-card", "confirm", "repay")


def _deps():
    return current_app.extensions["sandbox"]


def _page(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers.update({"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})
    return response


@bp.get("/")
def index():
    """The orders pushed here, newest first, each with the calls made and the callbacks received."""
    pool = _deps().pool
    with pool.connection() as conn:
        shown = [{"order": order, "actions": orders.actions(conn, order["order_no"]),
                  "callbacks": callbacks.of_order(conn, order["order_no"])} for order in orders.recent(conn, 50)]
        received = callbacks.recent(conn, 50)
    return _page(render_template("index.html", orders=shown, received=received, link=_link))


@bp.post("/page/orders")
def push_form():
    _same_origin()
    form = dict(request.form)
    for name in ("loanAmount", "loanTerm"):
        form[name] = int(form[name]) if form.get(name, "").isdigit() else form.get(name)
    try:
        order = NewOrder().load(form)
    except ValidationError as exc:
        return _page(f"invalid order: {sorted(exc.messages)}", 400)
    deps = _deps()
    pushed = simulation.push(deps.pool, deps.lending, order)
    return redirect(f"/#{pushed['orderNo']}", 303)


@bp.post("/page/orders/<order_no>/<action>")
def action_form(order_no: str, action: str):
    _same_origin()
    if action not in ACTIONS:
        abort(404)
    deps = _deps()
    try:
        if action == "bind-card":
            simulation.bind_card(deps.pool, deps.lending, order_no, Card().load(dict(request.form)))
        elif action == "confirm":
            simulation.confirm(deps.pool, deps.lending, order_no)
        else:
            text = request.form.get("periods", "all").strip()
            periods = "all" if text == "all" else [int(n) for n in text.split(",") if n.strip().isdigit()]
            simulation.repay(deps.pool, deps.lending, order_no, RepayIn().load({"periods": periods})["periods"])
    except ValidationError as exc:
        return _page(f"invalid input: {sorted(exc.messages)}", 400)
    return redirect(f"/#{order_no}", 303)


def _same_origin() -> None:
    """Forms post only from this page: a browser's Origin (when it sends one) must be this host."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403)


def _link(url) -> str | None:
    """A URL safe to show as a link: http(s) only."""
    if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
        return url
    return None

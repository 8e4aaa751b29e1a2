"""The sandbox's page: the orders it pushed and the callbacks lending sent, with forms to walk a loan by
hand (push, bind a card, confirm, open the account through the link, repay), and each order's own page with
lending's state of it now. No script on the page."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError

from shared.contract import ALL_PERIODS

from partner_sandbox import TEMPLATES_DIR, simulation
from partner_sandbox.api.schemas import Card, NewOrder, RepayIn
from partner_sandbox.bootstrap import dependencies
from partner_sandbox.repository import callbacks, orders

bp = Blueprint("pages", __name__, template_folder=str(TEMPLATES_DIR))
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def _page(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers.update({"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})
    return response


@bp.get("/")
def index():
    """The orders pushed here, newest first, each with the calls made and the callbacks received."""
    pool = dependencies().pool
    with pool.connection() as conn:
        shown = [_shown(conn, order) for order in orders.recent(conn, 50)]
        received = callbacks.recent(conn, 50)
    return _page(render_template("index.html", orders=shown, received=received, link=_link))


@bp.get("/page/orders/<order_no>")
def order_page(order_no: str):
    """One order as on the list, with lending's answers to the query APIs now (its state: approved,
    disbursed, the plan); asked only here, so the list costs lending nothing."""
    deps = dependencies()
    with deps.pool.connection() as conn:
        order = orders.get(conn, order_no)
        if order is None:
            return _page("no such order", 404)
        item = _shown(conn, order)
    item["queries"] = simulation.queries(deps, order_no)
    return _page(render_template("index.html", orders=[item], received=None, link=_link))


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
    pushed = simulation.push(dependencies(), order)
    return redirect(f"/#{pushed['orderNo']}", 303)


@bp.post("/page/orders/<order_no>/bind-card")
def bind_card_form(order_no: str):
    _same_origin()
    try:
        card = Card().load(dict(request.form))
    except ValidationError as exc:
        return _page(f"invalid input: {sorted(exc.messages)}", 400)
    simulation.bind_card(dependencies(), order_no, card)
    return _back(order_no)


@bp.post("/page/orders/<order_no>/confirm")
def confirm_form(order_no: str):
    _same_origin()
    simulation.confirm(dependencies(), order_no)
    return _back(order_no)


@bp.post("/page/orders/<order_no>/repay")
def repay_form(order_no: str):
    """``periods``: ``all``, or period numbers separated by commas."""
    _same_origin()
    text = request.form.get("periods", ALL_PERIODS).strip()
    periods = ALL_PERIODS if text == ALL_PERIODS else [int(n) for n in text.split(",") if n.strip().isdigit()]
    try:
        periods = RepayIn().load({"periods": periods})["periods"]
    except ValidationError as exc:
        return _page(f"invalid input: {sorted(exc.messages)}", 400)
    simulation.repay(dependencies(), order_no, periods)
    return _back(order_no)


def _back(order_no: str):
    """Back where the form was posted from: the order's own page (its forms say ``back=order``) or the list."""
    if request.form.get("back") == "order":
        return redirect(url_for("pages.order_page", order_no=order_no), 303)
    return redirect(f"/#{order_no}", 303)


def _shown(conn, order: dict) -> dict:
    """An order as the page shows it: the order, the calls made for it, the callbacks received."""
    return {"order": order, "actions": orders.actions(conn, order["order_no"]),
            "callbacks": callbacks.of_order(conn, order["order_no"])}


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

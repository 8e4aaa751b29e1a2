"""The users' single-page web frontend at ``/`` (plain HTML + JS from ``static/``, no build step)."""
from flask import Blueprint, send_from_directory

from user_center import STATIC_DIR

bp = Blueprint("frontend", __name__, static_folder=str(STATIC_DIR), static_url_path="/assets")
# Scripts and styles only from this origin; the page talks only to this API; the bank is reached
# by navigation, which CSP does not restrict.
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


@bp.get("/")
def index():
    """The single page; its hash routes (``#/callback``, ``#/BankUserRegisterCallback``, ...) run in the browser."""
    response = send_from_directory(STATIC_DIR, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

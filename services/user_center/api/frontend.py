"""The users' single-page web frontend at ``/`` (plain HTML + JS from ``static/``, no build step)."""
from flask import Blueprint, send_from_directory

from user_center import STATIC_DIR

bp = Blueprint("frontend", __name__, static_folder=str(STATIC_DIR), static_url_path="/assets")
# Scripts and styles only from this origin; the page talks only to this API; the bank is reached
# by navigation, which CSP does not restrict. No site may frame it (frame-ancestors, and
# X-Frame-Options for browsers that predate it).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none';"
                               " form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/")
def index():
    """The single page; its hash routes (``#/callback``, ``#/BankUserRegisterCallback``, ...) run in the browser."""
    return send_from_directory(STATIC_DIR, "index.html", max_age=0)


@bp.after_request
def _protect(response):
    """Every answer of the frontend, ``/assets/index.html`` included, carries the page's protection."""
    response.headers.update(PAGE_HEADERS)
    return response

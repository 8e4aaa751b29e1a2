"""The bank's HTTP side: one blueprint per group of routes and the schemas of their inputs and answers.

- ``pages``: the bank's pages and form for the user's browser (``/gateway``, ``/gateway/confirm``);
- ``sandbox``: the sandbox's own endpoints (``/sandbox/confirm``, the fault knobs);
- ``bank``: the bank's server API for the platform (``/service/query``, ``/balance-details``, ``/statements``);
- ``huifu``: the Huifu channel (``/huifu/register``, ``/huifu/netsave``).
"""
from flask import Flask

from bank_sandbox.api.errors import error_json
from bank_sandbox.api.schemas import document_settings
from bank_sandbox.gateway_requests import RequestExpired


def install(app: Flask, config: dict) -> None:
    """What every route shares, set up before the blueprints are registered: the bank's JSON for an
    expired request, frame protection on every answer, and the configured values in the OpenAPI document."""
    app.register_error_handler(RequestExpired, error_json)
    app.after_request(_never_framed)
    document_settings(app.extensions["api"], config)


def _never_framed(response):
    """No page of the bank may be shown inside another site's frame (clickjacking of the password form)."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response

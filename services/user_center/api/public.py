"""Endpoints without user auth: registration and login."""
from flask import current_app

from shared.web import Blueprint

from user_center import accounts
from user_center.api.responses import ok
from user_center.login_throttle import client_address
from user_center.api.schemas import ErrorResponse, Registered, RegisterIn, Token, TokenIn, envelope

bp = Blueprint("consumers", __name__, description="registration and login")


@bp.post("/consumers")
@bp.arguments(RegisterIn())
@bp.response(201, envelope("RegisteredResponse", Registered))
@bp.alt_response(409, schema=ErrorResponse, description="mobile already registered")
def register(args):
    """Register a user with mobile and password."""
    return ok(accounts.register(current_app.extensions["db"], args["mobile"], args["password"], args["username"]))


@bp.post("/tokens")
@bp.arguments(TokenIn())
@bp.response(200, envelope("TokenResponse", Token))
@bp.alt_response(401, schema=ErrorResponse, description="wrong mobile or password")
@bp.alt_response(429, schema=ErrorResponse, description="too many failed logins; see the Retry-After header",
                 headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}})
def create_token(args):
    """Log in: a bearer access token."""
    extensions = current_app.extensions
    return ok(accounts.login(extensions["db"], current_app.config, extensions["login_throttle"], args["mobile"],
                             args["password"], client_address(current_app.config["TRUSTED_PROXY_COUNT"])))

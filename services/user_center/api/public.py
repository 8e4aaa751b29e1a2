"""Endpoints without user auth: registration and login."""
from flask import after_this_request, current_app, request

from shared.web import Blueprint

from user_center import accounts, device_cookies
from user_center.api.responses import ok
from user_center.api.schemas import ErrorResponse, Registered, RegisterIn, Token, TokenIn, envelope
from user_center.login_throttle import client_address, request_is_https

bp = Blueprint("consumers", __name__, description="registration and login")
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def _address() -> str:
    return client_address(current_app.config["TRUSTED_PROXY_COUNT"])


@bp.post("/consumers")
@bp.arguments(RegisterIn())
@bp.response(201, envelope("RegisteredResponse", Registered))
@bp.alt_response(409, schema=ErrorResponse, description="mobile already registered")
@bp.alt_response(429, schema=ErrorResponse, headers=RETRY_AFTER,
                 description="too many registration attempts for this mobile or from this address")
def register(args):
    """Register a user with mobile and password."""
    extensions = current_app.extensions
    return ok(accounts.register(extensions["db"], extensions["login_throttle"], args["mobile"], args["password"],
                                args["username"], _address()))


@bp.post("/tokens")
@bp.arguments(TokenIn())
@bp.response(200, envelope("TokenResponse", Token))
@bp.alt_response(401, schema=ErrorResponse, description="wrong mobile or password")
@bp.alt_response(429, schema=ErrorResponse, headers=RETRY_AFTER, description="too many failed logins")
def create_token(args):
    """Log in: a bearer access token, and a device cookie that keeps this device out of strangers' lockouts."""
    config, extensions = current_app.config, current_app.extensions
    device = device_cookies.from_request(config["TOKEN_SECRET"], request)
    answer, cookie = accounts.login(extensions["db"], config, extensions["login_throttle"], args["mobile"],
                                    args["password"], _address(), device)
    secure = config["DEVICE_COOKIE_SECURE"] or config["PRODUCTION"] or request_is_https(config["TRUSTED_PROXY_COUNT"])

    @after_this_request
    def _set_device_cookie(response):
        device_cookies.attach(response, cookie, config["DEVICE_COOKIE_TTL_DAYS"] * 86400, secure)
        return response

    return ok(answer)

"""Endpoints without user auth: registration and login."""
from flask import after_this_request, request

from shared.web import Blueprint

from user_center import accounts, device_cookies
from user_center.api.addresses import client_address, request_is_https
from user_center.api.responses import ok
from user_center.api.schemas import ErrorResponse, Registered, RegisterIn, Token, TokenIn, envelope
from user_center.bootstrap import dependencies

bp = Blueprint("consumers", __name__, description="registration and login")
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}


def _address() -> str:
    return client_address(dependencies().config["TRUSTED_PROXY_COUNT"])


@bp.post("/consumers")
@bp.arguments(RegisterIn())
@bp.response(201, envelope("RegisteredResponse", Registered))
@bp.alt_response(409, schema=ErrorResponse, description="mobile already registered")
@bp.alt_response(429, schema=ErrorResponse, headers=RETRY_AFTER,
                 description="too many registration attempts for this mobile or from this address")
def register(args):
    """Register a user with mobile and password."""
    deps = dependencies()
    return ok(accounts.register(deps.pool, deps.login_throttle, args["mobile"], args["password"], args["username"],
                                _address()))


@bp.post("/tokens")
@bp.arguments(TokenIn())
@bp.response(200, envelope("TokenResponse", Token))
@bp.alt_response(401, schema=ErrorResponse, description="wrong mobile or password")
@bp.alt_response(429, schema=ErrorResponse, headers=RETRY_AFTER, description="too many failed logins")
def create_token(args):
    """Log in: a bearer access token, and a device cookie that keeps this device out of strangers' lockouts."""
    deps = dependencies()
    config = deps.config
    device = device_cookies.read(config["TOKEN_SECRET"], request.cookies.get(device_cookies.COOKIE_NAME))
    answer, cookie = accounts.login(deps.pool, config, deps.login_throttle, args["mobile"], args["password"],
                                    _address(), device)
    secure = config["DEVICE_COOKIE_SECURE"] or config["PRODUCTION"] or request_is_https(config["TRUSTED_PROXY_COUNT"])

    @after_this_request
    def _set_device_cookie(response):
        """HttpOnly (no script reads it), SameSite=Strict, sent back only to the login."""
        response.set_cookie(device_cookies.COOKIE_NAME, cookie, max_age=config["DEVICE_COOKIE_TTL_DAYS"] * 86400,
                            path=device_cookies.COOKIE_PATH, secure=secure, httponly=True, samesite="Strict")
        return response

    return ok(answer)

"""User authentication of ``/my/`` endpoints: a valid bearer token names the only user they serve."""
from flask import g

from shared.auth import bearer_token
from shared.errors import Unauthorized

from user_center.bootstrap import dependencies
from user_center.tokens import verify_token

BEARER = [{"bearerAuth": []}]


def authenticate_user() -> None:
    """``before_request`` hook: set ``g.user_no`` from the token or answer 401."""
    token = bearer_token()
    if not token:
        raise Unauthorized("log in first: Authorization: Bearer <access_token> is required")
    g.user_no = verify_token(dependencies().config["TOKEN_SECRET"], token)


def current_user_no() -> str:
    """The authenticated user of this request."""
    return g.user_no

"""Service-to-service bearer auth: each caller holds a secret token from the environment."""
import hmac

from flask import current_app, request

from shared.errors import Unauthorized


def bearer_token(authorization: str | None = None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value (by default the current request's), or ''."""
    header = request.headers.get("Authorization", "") if authorization is None else authorization
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


NO_SERVICE_TOKEN = "service credentials required: Authorization: Bearer <internal token>"


def token_accepted(authorization: str, accepted: tuple[str, ...]) -> bool:
    """True when an ``Authorization`` header value carries one of ``accepted`` (constant-time compare)."""
    token = bearer_token(authorization)
    return bool(token) and any(hmac.compare_digest(token.encode(), ok.encode()) for ok in accepted)


def require_service_token() -> None:
    """Refuse the request with 401 unless it carries one of ``INTERNAL_TOKENS``.

    Meant as a blueprint ``before_request`` hook.
    """
    if not token_accepted(request.headers.get("Authorization", ""), current_app.config["INTERNAL_TOKENS"]):
        raise Unauthorized(NO_SERVICE_TOKEN)


def service_headers(config: dict) -> dict:
    """Headers for an outgoing call to another service of the platform."""
    return {"Authorization": f"Bearer {config['INTERNAL_TOKEN']}"}

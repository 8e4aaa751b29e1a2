"""Service-to-service bearer auth: each caller holds a secret token from the environment."""
import hmac

from flask import current_app, request

from shared.errors import Unauthorized


def bearer_token() -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ''."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def require_service_token() -> None:
    """Refuse the request with 401 unless it carries one of ``INTERNAL_TOKENS``.

    Meant as a blueprint ``before_request`` hook; compares in constant time.
    """
    token = bearer_token()
    accepted = current_app.config["INTERNAL_TOKENS"]
    if not token or not any(hmac.compare_digest(token.encode(), ok.encode()) for ok in accepted):
        raise Unauthorized("service credentials required: Authorization: Bearer <internal token>")


def service_headers(config: dict) -> dict:
    """Headers for an outgoing call to another service of the platform."""
    return {"Authorization": f"Bearer {config['INTERNAL_TOKEN']}"}

"""The agent's result message, as user-center reads it: the one place its fields are validated.

The depository agent publishes every final bank result on exchange ``depository.gateway-notify``
(routing key = serviceName, message id ``<serviceName>:<requestNo>``; docs/protocols.md, "messages").
The GatewayNotifyConsumer reads each body with :func:`read`; a body it refuses can never be applied
and goes to the DLQ at once.
"""
import json

from shared.contract import GATEWAY_SERVICES, STATUS_FAILURE, STATUS_SUCCESS, SUCCESS_CODE


class MalformedMessage(ValueError):
    """Bad JSON, an unknown service, no requestNo, no final status, or a success with another respCode."""


def read(body: bytes, routing_key: str = "") -> dict:
    """The message's JSON object with ``serviceName`` (the routing key when the body has none),
    ``requestNo`` and an int ``status``: 1 (success, respCode ``00000`` when present) or 2 (failure)."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedMessage("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedMessage("body is not a JSON object")
    payload.setdefault("serviceName", routing_key)
    if payload["serviceName"] not in GATEWAY_SERVICES:
        raise MalformedMessage(f"unknown serviceName {str(payload['serviceName'])[:40]!r}")
    if not isinstance(payload.get("requestNo"), str) or not payload["requestNo"]:
        raise MalformedMessage("requestNo is missing")
    status = str(payload.get("status", ""))
    if status not in (str(STATUS_SUCCESS), str(STATUS_FAILURE)):
        raise MalformedMessage(f"status must be {STATUS_SUCCESS} (success) or {STATUS_FAILURE} (failure), "
                               f"got {status[:10]!r}")
    payload["status"] = int(status)
    if payload["status"] == STATUS_SUCCESS and payload.get("respCode", SUCCESS_CODE) != SUCCESS_CODE:
        raise MalformedMessage(f"status {STATUS_SUCCESS} with respCode {str(payload.get('respCode'))[:20]!r}")
    return payload

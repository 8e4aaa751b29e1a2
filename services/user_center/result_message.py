"""The agent's result message, as user-center reads it: validated by the contract both sides share.

The depository agent publishes every final bank result on exchange ``depository.gateway-notify``
(routing key = serviceName, message id ``<serviceName>:<requestNo>``; docs/protocols.md, "messages"),
after checking it with :func:`shared.contract.check_result`. The GatewayNotifyConsumer reads each body
with :func:`read`, which applies the very same check (:func:`shared.contract.parse_message`); a body it
refuses can never be applied and goes to the DLQ at once.
"""
from shared.contract import GATEWAY_SERVICES, InvalidResult, parse_message


class MalformedMessage(ValueError):
    """A message that is not exactly one valid gateway result (the text names the field and the rule)."""


def read(body: bytes) -> dict:
    """The message's JSON object: the result's fields plus ``serviceName``, ``status`` the number 1 or 2."""
    try:
        result = parse_message(body)
    except InvalidResult as exc:
        raise MalformedMessage(str(exc)) from None
    if result.service_name not in GATEWAY_SERVICES:  # a transaction service's result is lending's, never ours
        raise MalformedMessage(f"serviceName {result.service_name} is not one of {', '.join(GATEWAY_SERVICES)}")
    return result.message_body()

"""lending's client of the depository agent's transaction services (docs/protocols.md).

Every call carries the service token and answers a RestResponse whose ``result`` is ``{requestNo,
serviceName, status, respCode, respMsg}``: HTTP 200 once the bank answered (status 1 success, 2
failure), 202 with status 0 while it has not (the final result then arrives as a message on
``depository.gateway-notify``), 409 when the requestNo was used with another body. An answer that is
none of these, or no answer at all, tells nothing: the call may still land, so it is sent again
later with the same requestNo and body, never guessed.
"""
from dataclasses import dataclass

from shared.http import ServiceClient, ServiceUnreachable
from shared.contract import TRANSACTION_PATHS

from lending.answers import json_object

AGENT_REFUSED = "AGENT_REFUSED"


@dataclass(frozen=True)
class CallAnswer:
    """What the agent said: ``status`` 1 success, 2 failure (both final), 0 pending."""

    status: int
    resp_code: str = ""
    resp_msg: str = ""

    @property
    def final(self) -> bool:
        return self.status in (1, 2)


class AgentSilent(Exception):
    """No usable answer: the call's outcome is unknown and it must be sent again."""


class AgentConflict(Exception):
    """409: the agent holds this requestNo with another body; an operator must look."""


class DepositoryAgent:
    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def call(self, service: str, body: dict) -> CallAnswer:
        """Send one transaction request; raises :class:`AgentSilent` or :class:`AgentConflict`."""
        try:
            response = self.client.post(TRANSACTION_PATHS[service], json=body)
        except ServiceUnreachable as exc:
            raise AgentSilent(f"no answer ({exc.kind})") from exc
        answer = json_object(response.content)
        result = answer.get("result") if isinstance(answer.get("result"), dict) else {}
        if response.status_code == 409:
            raise AgentConflict(f"requestNo {body['requestNo']} is held with another body: {answer.get('msg')}")
        if response.status_code == 400:
            # refused before it was recorded or signed: it never reached the bank and never will
            return CallAnswer(2, AGENT_REFUSED, str(answer.get("msg") or "refused by the depository agent")[:200])
        if result.get("requestNo") != body["requestNo"] or result.get("serviceName") != service:
            raise AgentSilent(f"HTTP {response.status_code} without this call's result")
        status = result.get("status")
        if response.status_code == 200 and answer.get("code") == 0 and status in (1, 2):
            return CallAnswer(status, str(result.get("respCode") or ""), str(result.get("respMsg") or "")[:200])
        if response.status_code == 202 and status == 0:
            return CallAnswer(0)
        raise AgentSilent(f"HTTP {response.status_code} with status {status!r}")

"""user-center's client of depository-agent's ``/l/`` endpoints, which sign gateway requests."""
from shared.errors import AppError, BadRequest, RecordNotFound, Unavailable
from shared.http import ServiceClient, ServiceResponse, ServiceUnreachable

GATEWAY_FIELDS = ("serviceName", "platformNo", "reqData", "signature", "depositoryUrl")


class AgentError(AppError):
    """The agent refused a request user-center considered valid: a fault between services."""

    status, code = 502, 952


class AgentClient:
    """Obtains GatewayRequests (``{serviceName, platformNo, reqData, signature, depositoryUrl}``)."""

    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def personal_register(self, body: dict) -> dict:
        return self._gateway_request("/l/consumers", body)

    def recharge(self, body: dict) -> dict:
        return self._gateway_request("/l/recharges", body)

    def withdraw(self, body: dict) -> dict:
        return self._gateway_request("/l/withdraws", body)

    def knows(self, request_no: str) -> bool:
        """Whether the agent has a depository record of ``request_no`` (``GET /l/records/<requestNo>``).

        Only the agent's own "no such record" (404 with code 918) means it never received the request;
        any other answer that is not the record (a 404 of a wrong path, a proxy or an older agent, a 5xx,
        no answer) leaves the question open: :class:`Unavailable`."""
        response = self._send("GET", f"/l/records/{request_no}")
        answer = _json_object(response)
        if response.status_code == 404 and answer.get("code") == RecordNotFound.code:
            return False
        result = answer.get("result")
        if response.status_code == 200 and answer.get("code") == 0 and isinstance(result, dict) \
                and result.get("requestNo") == request_no:
            return True
        raise Unavailable(f"depository agent answered {response.status_code} (code {answer.get('code')}) for record "
                          f"{request_no}: outcome unknown")

    def _send(self, method: str, path: str, **kwargs) -> ServiceResponse:
        """The agent's answer; :class:`Unavailable` when none came."""
        try:
            return self.client.request(method, path, **kwargs)
        except ServiceUnreachable as exc:
            raise Unavailable(f"depository agent unreachable ({exc.kind}), try again") from exc

    def _gateway_request(self, path: str, body: dict) -> dict:
        response = self._send("POST", path, json=body)
        answer = _json_object(response)
        if response.status_code >= 500:
            raise Unavailable(f"depository agent unavailable ({response.status_code}), try again")
        if response.status_code == 400:
            raise BadRequest(f"refused by the depository: {answer.get('msg') or 'bad request'}")
        result = answer.get("result")
        if response.status_code not in (200, 201) or answer.get("code") != 0 or not isinstance(result, dict) \
                or not all(isinstance(result.get(name), str) for name in GATEWAY_FIELDS):
            raise AgentError(f"depository agent answered {response.status_code}: {answer.get('msg') or 'no result'}")
        return {name: result[name] for name in GATEWAY_FIELDS}


def _json_object(response: ServiceResponse) -> dict:
    """The answer's JSON object; ``{}`` when it is not one."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}

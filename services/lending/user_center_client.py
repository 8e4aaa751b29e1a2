"""lending's client of user-center's additions for lending (docs/protocols.md; service token, RestResponse):
find or create a user by mobile, a user's depository status, the one-time open-account link."""
from shared.errors import AppError, Conflict, Unavailable
from shared.http import ServiceClient, ServiceUnreachable
from shared.contract import UC_CONSUMER, UC_CONSUMERS, UC_OPEN_ACCOUNT_LINKS

from lending.answers import json_object


class UserCenter:
    def __init__(self, base_url: str, config: dict):
        self.client = ServiceClient(base_url, config, timeout=config["SERVICE_TIMEOUT_SECONDS"])

    def find_or_create(self, mobile: str, fullname: str, id_number: str) -> dict:
        """``{userNo, depositoryStatus}`` of the user with this mobile, created when there is none;
        :class:`Conflict` when that mobile belongs to another person."""
        return self._result("POST", UC_CONSUMERS, {"mobile": mobile, "fullname": fullname, "idNumber": id_number})

    def depository_status(self, user_no: str) -> str:
        """``NONE``, ``PENDING``, ``OPENED`` or ``FAILED``."""
        return self._result("GET", UC_CONSUMER.format(userNo=user_no), None)["depositoryStatus"]

    def open_account_link(self, body: dict) -> dict:
        """``{url, expiresAt}``: a one-time link signing the borrower in and sending the browser to the bank."""
        return self._result("POST", UC_OPEN_ACCOUNT_LINKS, body)

    def _result(self, method: str, path: str, body: dict | None) -> dict:
        try:
            response = self.client.request(method, path, json=body)
        except ServiceUnreachable as exc:
            raise Unavailable(f"user-center unreachable ({exc.kind}), try again") from exc
        answer = json_object(response.content)
        if response.status_code == 409:
            raise Conflict(f"user-center: {answer.get('msg') or 'conflict'}")
        result = answer.get("result")
        if response.status_code in (200, 201) and answer.get("code") == 0 and isinstance(result, dict):
            return result
        if response.status_code >= 500 or response.status_code == 401:
            raise Unavailable(f"user-center answered {response.status_code}, try again")
        raise AppError(f"user-center refused: {answer.get('msg') or response.status_code}", status=502, code=952)

"""The platform services' client of beanpay-ledger (SPEC section 7); amounts in fen.

Postings are idempotent by trade number on the ledger's side, so a caller may repeat any call
after a timeout: a replay answers 201 with the original record.
"""
from shared.errors import AppError, Conflict, NotFound, Unavailable, Unprocessable
from shared.http import ServiceClient, ServiceUnreachable

_ERRORS = {404: NotFound, 409: Conflict, 422: Unprocessable}


class LedgerClient:
    """Wallet operations over HTTP; raises :class:`AppError` subclasses for the ledger's refusals."""

    def __init__(self, base_url: str, config: dict, timeout: float = 5.0):
        self.client = ServiceClient(base_url, config, timeout)

    def _call(self, path: str, body: dict) -> dict:
        try:
            response = self.client.post(path, json=body)
        except ServiceUnreachable as exc:
            raise Unavailable(f"ledger unreachable: {exc.kind}") from exc
        if response.status_code in (200, 201):
            return response.json()
        try:
            error = response.json()
        except ValueError:
            error = {"msg": response.text[:200]}
        if response.status_code >= 500:
            raise Unavailable(f"ledger error {response.status_code}: {error.get('msg')}")
        error_class = _ERRORS.get(response.status_code, AppError)
        raise error_class(f"ledger: {error.get('msg')}", code=error.get("code"), status=response.status_code)

    def create_account(self, eid: str, name: str) -> dict:
        """Create the wallet for ``eid`` (returns the existing one when it is already there)."""
        return self._call("/account/create", {"eid": eid, "name": name})

    def add(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/add", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def deduct(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/deduct", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def refund(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/refund", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def post_batch(self, operations: list[dict]) -> list[dict]:
        """``/account/balance/batch``: each ``{op: add|deduct|refund, eid, trade_no, amount}`` is answered
        alone, in order, as ``{status, code, msg, record}`` (200 posted, 201 replay, else refused)."""
        return self._call("/account/balance/batch", {"operations": operations})["results"]

    def balance(self, eid: str) -> dict:
        """``{account_id, eid, balance, credit}``; :class:`NotFound` when the account does not exist."""
        return self._call("/account/balance/query", {"eid": eid})

"""The platform services' client of beanpay-ledger (docs/protocols.md); amounts in fen.

Postings are idempotent by trade number on the ledger's side, so a caller may repeat any call
after a timeout: a replay answers 201 with the original record. A refusal counts only when it is the
ledger's own answer (its ``{code, msg}`` body with the code of that status); anything else (no answer,
a timeout, a 5xx, a proxy's page) raises :class:`Unavailable`: the outcome is unknown, and a posting
may still land.
"""
from shared.errors import AppError, BadRequest, Conflict, Locked, NotFound, Unavailable, Unprocessable
from shared.http import ServiceClient, ServiceUnreachable

# status -> (error class, the ledger's codes for it)
_REFUSALS = {400: (BadRequest, {903}), 404: (NotFound, {908}), 409: (Conflict, {909, 911}),
             422: (Unprocessable, {904, 906}), 423: (Locked, {907})}


class LedgerClient:
    """Wallet operations over HTTP; raises :class:`AppError` subclasses for the ledger's refusals."""

    def __init__(self, base_url: str, config: dict, timeout: float = 5.0):
        self.client = ServiceClient(base_url, config, timeout)

    def _call(self, path: str, body: dict) -> dict:
        try:
            response = self.client.post(path, json=body)
        except ServiceUnreachable as exc:
            raise Unavailable(f"ledger unreachable: {exc.kind}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Unavailable(f"ledger answered {response.status_code} without a JSON object")
        if response.status_code in (200, 201):
            return answer
        error_class, codes = _REFUSALS.get(response.status_code, (None, ()))
        if error_class is None or answer.get("code") not in codes:
            raise Unavailable(f"ledger answered {response.status_code} {str(answer.get('msg'))[:200]}")
        raise error_class(f"ledger: {answer.get('msg')}", code=answer["code"])

    def create_account(self, eid: str, name: str) -> dict:
        """Create the wallet for ``eid`` (returns the existing one when it is already there)."""
        return self._call("/account/create", {"eid": eid, "name": name})

    def add(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/add", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def deduct(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/deduct", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def refund(self, eid: str, trade_no: str, amount: int) -> dict:
        return self._call("/account/balance/refund", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def release(self, eid: str, trade_no: str, amount: int) -> dict:
        """Give the hold ``trade_no`` back for good, whether its deduct arrived or is still on its way:
        ``{..., released: "refund" | "void"}`` (docs/beanpay_ledger.md, "Releasing a hold")."""
        return self._call("/account/balance/release", {"eid": eid, "trade_no": trade_no, "amount": amount})

    def post_batch(self, operations: list[dict]) -> list[dict]:
        """``/account/balance/batch``: each ``{op: add|deduct|refund, eid, trade_no, amount}`` is answered
        alone, in order, as ``{status, code, msg, record}`` (200 posted, 201 replay, else refused)."""
        results = self._call("/account/balance/batch", {"operations": operations}).get("results")
        if not isinstance(results, list) or len(results) != len(operations):
            raise Unavailable("ledger batch answer without one result per operation")
        return results

    def balance(self, eid: str) -> dict:
        """``{account_id, eid, balance, credit}``; :class:`NotFound` when the account does not exist."""
        return self._call("/account/balance/query", {"eid": eid})

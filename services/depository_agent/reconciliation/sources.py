"""The other parties' views for reconciliation, read over HTTP: the bank's statement, user-center's
records (``GET /internal/records``) and the ledger's postings (``/account/record/query``)."""
from datetime import date, datetime

import requests

from shared.errors import AppError
from shared.http import ServiceClient, ServiceResponse, ServiceUnreachable

from depository_agent.gateway_requests import parse_commission

USER_CENTER_BATCH = 75    # requestNos per call: keeps the request line under gunicorn's 4094 bytes
USER_CENTER_PAGE = 500    # records per page (user-center's limit)
LEDGER_PAGE = 100         # records per page (the ledger's limit)
_MAX_FEN = 10**15


class SourceError(Exception):
    """A source could not be read completely: the run would compare against a partial picture."""


def _json(response: requests.Response | ServiceResponse, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        message = body.get("msg") if isinstance(body, dict) else response.text[:200]
        raise SourceError(f"{what} answered {response.status_code}: {message}")
    return body


def _get(session_or_client, url_or_path: str, what: str, **kwargs) -> requests.Response | ServiceResponse:
    try:
        return session_or_client.get(url_or_path, **kwargs)
    except requests.RequestException as exc:
        raise SourceError(f"{what} unreachable: {exc.__class__.__name__}") from exc
    except ServiceUnreachable as exc:
        raise SourceError(f"{what} unreachable: {exc.kind}") from exc


class BankStatements:
    """``GET <BANK_SANDBOX_URL>/statements?platformNo&date``: the bank's successful movements of a day."""

    def __init__(self, config: dict):
        self.url = f"{config['BANK_SANDBOX_URL'].rstrip('/')}/statements"
        self.platform_no = config["PLATFORM_NO"]
        self.timeout = config["RECONCILE_HTTP_TIMEOUT_SECONDS"]
        self.session = requests.Session()

    def fetch(self, day: date) -> dict[str, dict]:
        """Statement lines by requestNo, amounts in fen: ``{requestNo, serviceName, userNo, amount, commission, time}``."""
        response = _get(self.session, self.url, "bank statement", timeout=self.timeout,
                        params={"platformNo": self.platform_no, "date": day.isoformat()})
        lines = {}
        for line in _json(response, "bank statement").get("transactions", []):
            try:
                lines[line["requestNo"]] = {
                    "requestNo": line["requestNo"], "serviceName": line["serviceName"], "userNo": line["userNo"],
                    "amount": parse_commission(str(line["amount"]), _MAX_FEN),
                    "commission": parse_commission(str(line.get("commission") or "0"), _MAX_FEN),
                    "time": line.get("time")}
            except (KeyError, TypeError, AppError) as exc:
                raise SourceError(f"unreadable statement line {str(line)[:200]}: {getattr(exc, 'msg', exc)!r}") from exc
        return lines


class UserCenterRecords:
    """user-center's recharge and withdraw records (``GET /internal/records``, service token)."""

    def __init__(self, config: dict):
        self.client = ServiceClient(config["USER_CENTER_URL"], config, config["RECONCILE_HTTP_TIMEOUT_SECONDS"])

    def _page(self, params: dict) -> dict:
        response = _get(self.client, "/internal/records", "user-center", params=params)
        return _json(response, "user-center")["result"]

    def by_request_nos(self, request_nos) -> dict[str, dict]:
        """The records of ``request_nos`` that user-center knows, by requestNo."""
        wanted = sorted(set(request_nos))
        found = {}
        for index in range(0, len(wanted), USER_CENTER_BATCH):
            page = self._page({"requestNo": wanted[index:index + USER_CENTER_BATCH], "size": USER_CENTER_PAGE})
            found.update((record["requestNo"], record) for record in page["records"])
        return found

    def between(self, start: datetime, end: datetime) -> dict[str, dict]:
        """Records created or updated in ``[start, end)``, by requestNo."""
        found, page_no = {}, 1
        while True:
            page = self._page({"from": start.isoformat(), "to": end.isoformat(), "page": page_no,
                               "size": USER_CENTER_PAGE})
            found.update((record["requestNo"], record) for record in page["records"])
            if page_no * USER_CENTER_PAGE >= page["total"] or not page["records"]:
                return found
            page_no += 1


class LedgerPostings:
    """The ledger's records of one account (``/account/record/query``), each with its trade_no."""

    def __init__(self, config: dict):
        self.client = ServiceClient(config["LEDGER_URL"], config, config["RECONCILE_HTTP_TIMEOUT_SECONDS"])

    def for_account(self, eid: str, since: date) -> list[dict]:
        """Every record of ``eid`` from the business day ``since`` on; [] when the account does not exist."""
        records, page_no = [], 1
        while True:
            response = _get(self.client, "/account/record/query", "ledger",
                            params={"eid": eid, "start": since.strftime("%Y%m%d"), "pi": page_no, "ps": LEDGER_PAGE})
            if response.status_code == 404:
                return []
            page = _json(response, "ledger")
            records.extend(page["data"])
            if page_no * LEDGER_PAGE >= page["count"] or not page["data"]:
                return records
            page_no += 1

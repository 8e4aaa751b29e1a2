"""The other parties' views for reconciliation, read over HTTP: the bank's statement, user-center's
records (``GET /internal/records``) and the ledger's postings (``/account/record/query``).

Each answer is read strictly: a field of an unexpected type or format, a line or record given twice,
a statement for another day or platform, or a count that does not match makes the source unreadable
(:class:`SourceError`, the run is incomplete) rather than compared as something it may not mean.
"""
import re
from datetime import date, datetime

import requests

from shared import contract
from shared.http import ServiceClient, ServiceResponse, ServiceUnreachable
from shared.money import parse_yuan

USER_CENTER_BATCH = 75    # requestNos per call: keeps the request line under gunicorn's 4094 bytes
USER_CENTER_PAGE = 500    # records per page (user-center's limit)
LEDGER_PAGE = 100         # records per page (the ledger's limit)
_MAX_FEN = 10**15
_REQUEST_NO = re.compile(r"REQ_[0-9A-F]{32}")
_USER_NO = re.compile(r"USR_[0-9A-F]{32}")
_YUAN = re.compile(r"(0|[1-9][0-9]{0,14})\.[0-9]{2}")
_MONEY_SERVICES = ("RECHARGE", "WITHDRAW")
# Statement lines: recharges and withdrawals, and the transaction services that move money (projects do not).
_LINE_SERVICES = _MONEY_SERVICES + (contract.PRE_TRANSACTION, contract.CANCEL_PRE_TRANSACTION, contract.CONFIRM_LOAN,
                                    contract.CONFIRM_REPAYMENT)


class SourceError(Exception):
    """A source could not be read completely: the run would compare against a partial picture."""


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(condition: bool, what: str, item) -> None:
    if not condition:
        raise SourceError(f"unreadable {what}: {str(item)[:200]}")


def _statement_line(line) -> dict:
    """A statement line with its amounts in fen; exactly the bank's format, or :class:`SourceError`."""
    _check(isinstance(line, dict), "statement line", line)
    _check(isinstance(line.get("requestNo"), str) and _REQUEST_NO.fullmatch(line["requestNo"]) is not None,
           "statement line (requestNo)", line)
    _check(line.get("serviceName") in _LINE_SERVICES, "statement line (serviceName)", line)
    _check(isinstance(line.get("userNo"), str) and _USER_NO.fullmatch(line["userNo"]) is not None,
           "statement line (userNo)", line)
    for name in ("amount", "commission"):
        _check(isinstance(line.get(name), str) and _YUAN.fullmatch(line[name]) is not None,
               f"statement line ({name} must be yuan with two decimals, as a string)", line)
    _check(line.get("status") == 1 and _integer(line["status"]), "statement line (status)", line)
    _check(line["amount"] != "0.00", "statement line (amount)", line)
    commission = 0 if line["commission"] == "0.00" else parse_yuan(line["commission"], "commission", _MAX_FEN)
    return {"requestNo": line["requestNo"], "serviceName": line["serviceName"], "userNo": line["userNo"],
            "amount": parse_yuan(line["amount"], "amount", _MAX_FEN), "commission": commission,
            "time": line.get("time")}


def _user_center_record(record) -> dict:
    """A user-center record as it must be: amounts in fen as integers, a known callbackStatus."""
    _check(isinstance(record, dict), "user-center record", record)
    _check(isinstance(record.get("requestNo"), str) and _REQUEST_NO.fullmatch(record["requestNo"]) is not None,
           "user-center record (requestNo)", record)
    _check(record.get("serviceName") in _MONEY_SERVICES, "user-center record (serviceName)", record)
    _check(isinstance(record.get("userNo"), str), "user-center record (userNo)", record)
    _check(_integer(record.get("amount")) and record["amount"] > 0, "user-center record (amount)", record)
    _check(_integer(record.get("commission")) and record["commission"] >= 0, "user-center record (commission)",
           record)
    _check(_integer(record.get("callbackStatus")) and record["callbackStatus"] in (0, 1, 2),
           "user-center record (callbackStatus)", record)
    return record


def _ledger_record(record) -> dict:
    _check(isinstance(record, dict) and isinstance(record.get("trade_no"), str), "ledger record", record)
    _check(_integer(record.get("change_type")) and record["change_type"] in (1, 2, 3), "ledger record", record)
    _check(_integer(record.get("amount")), "ledger record (amount)", record)
    return record


def _page(body: dict, items: str, total: str, what: str) -> tuple[list, int]:
    """The list ``items`` and the integer ``total`` of a paged answer."""
    _check(isinstance(body.get(items), list) and _integer(body.get(total)), f"{what} page", body)
    return body[items], body[total]


def _by_request_no(records: list[dict], what: str) -> dict[str, dict]:
    """``records`` by requestNo; one given twice in the same answer makes the source unreadable."""
    found: dict[str, dict] = {}
    for record in records:
        if record["requestNo"] in found:
            raise SourceError(f"{what} lists {record['requestNo']} twice")
        found[record["requestNo"]] = record
    return found


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
        """Statement lines by requestNo, amounts in fen:
        ``{requestNo, serviceName, userNo, amount, commission, time}``."""
        response = _get(self.session, self.url, "bank statement", timeout=self.timeout,
                        params={"platformNo": self.platform_no, "date": day.isoformat()})
        body = _json(response, "bank statement")
        if body.get("platformNo") != self.platform_no or body.get("date") != day.isoformat():
            raise SourceError(f"the bank answered the statement of {str(body.get('platformNo'))[:40]!r} for "
                              f"{str(body.get('date'))[:20]!r}, not of {self.platform_no} for {day.isoformat()}")
        transactions, count = _page(body, "transactions", "count", "bank statement")
        if count != len(transactions):
            raise SourceError(f"the bank statement counts {count} lines but lists {len(transactions)}")
        return _by_request_no([_statement_line(line) for line in transactions], "the bank statement")


class UserCenterRecords:
    """user-center's recharge and withdraw records (``GET /internal/records``, service token)."""

    def __init__(self, config: dict):
        self.client = ServiceClient(config["USER_CENTER_URL"], config, config["RECONCILE_HTTP_TIMEOUT_SECONDS"])

    def _page(self, params: dict) -> tuple[list[dict], int]:
        response = _get(self.client, "/internal/records", "user-center", params=params)
        result = _json(response, "user-center").get("result")
        _check(isinstance(result, dict), "user-center answer", result)
        records, total = _page(result, "records", "total", "user-center")
        return [_user_center_record(record) for record in records], total

    def by_request_nos(self, request_nos) -> dict[str, dict]:
        """The records of ``request_nos`` that user-center knows, by requestNo."""
        wanted = sorted(set(request_nos))
        found: dict[str, dict] = {}
        for index in range(0, len(wanted), USER_CENTER_BATCH):
            asked = wanted[index:index + USER_CENTER_BATCH]
            records, _ = self._page({"requestNo": asked, "size": USER_CENTER_PAGE})
            strangers = {record["requestNo"] for record in records} - set(asked)
            if strangers:
                raise SourceError(f"user-center answered records that were not asked for: {sorted(strangers)[:3]}")
            found.update(_by_request_no(records, "user-center"))
        return found

    def between(self, start: datetime, end: datetime) -> dict[str, dict]:
        """Records created or updated in ``[start, end)``, by requestNo."""
        found: dict[str, dict] = {}
        page_no = 1
        while True:
            records, total = self._page({"from": start.isoformat(), "to": end.isoformat(), "page": page_no,
                                         "size": USER_CENTER_PAGE})
            found.update(_by_request_no(records, "user-center"))  # a record may move to the next page
            if page_no * USER_CENTER_PAGE >= total or not records:
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
            data, count = _page(_json(response, "ledger"), "data", "count", "ledger")
            records.extend(_ledger_record(record) for record in data)
            if page_no * LEDGER_PAGE >= count or not data:
                return records
            page_no += 1

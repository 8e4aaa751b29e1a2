"""The platform's side of the real sandbox over HTTP, for the transaction services' tests: signed calls
to POST /service with their verified answers, users opened and funded through /sandbox/confirm, and the
bank's balances, totals and statement lines in fen."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from shared.money import format_fen, parse_yuan

PLATFORM_NO = "WANXINP2P"
TIMEOUT = 30


def fen(yuan: str) -> int:
    """``"12.34"`` -> 1234 (``"0.00"`` -> 0)."""
    return 0 if yuan == "0.00" else parse_yuan(yuan, "amount", 10**15)


class BankClient:
    """Calls one running sandbox as the platform (``platform``: tests.bank_sandbox.conftest.Platform)."""

    def __init__(self, url: str, platform, password: str):
        self.url = url
        self.platform = platform
        self.password = password
        self.session = requests.Session()

    def post_service(self, service_name: str, payload: dict, **form) -> requests.Response:
        """POST /service with ``payload`` signed by the platform; ``form`` replaces form fields."""
        return self.session.post(f"{self.url}/service", data={**self.platform.gateway_params(service_name, payload),
                                                              **form}, timeout=TIMEOUT)

    def call(self, service_name: str, payload: dict) -> tuple[int, dict]:
        """``(HTTP status, verified result JSON)`` of one signed call."""
        answer = self.post_service(service_name, payload)
        assert set(answer.json()) == {"respData", "signature"}, answer.text
        return answer.status_code, self.platform.read_answer(answer.json())

    def code(self, service_name: str, payload: dict) -> str:
        """The respCode of a call the bank records (HTTP 200), checking the result names this requestNo."""
        status, result = self.call(service_name, payload)
        assert status == 200 and result["requestNo"] == payload["requestNo"], (status, result)
        assert result["status"] == (1 if result["respCode"] == "00000" else 2), result
        return result["respCode"]

    def confirm(self, service_name: str, payload: dict) -> dict:
        answer = self.session.post(f"{self.url}/sandbox/confirm", timeout=TIMEOUT,
                                   json=self.platform.confirm_body(service_name, payload, password=self.password))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def open_user(self, recharge: str | None = None) -> str:
        """A new depository user (its card at the starting balance), recharged with ``recharge`` if given."""
        user_no = self.platform.user_no()
        assert self.confirm("PERSONAL_REGISTER", self.platform.register(user_no))["status"] == 1
        if recharge:
            assert self.confirm("RECHARGE", self.platform.recharge(user_no, recharge))["status"] == 1
        return user_no

    def project(self, borrower: str, amount: str = "1000.00") -> str:
        """A new project of ``borrower``; its projectNo."""
        payload = self.platform.project(borrower, amount)
        assert self.code("CREATE_PROJECT", payload) == "00000"
        return payload["projectNo"]

    def freeze(self, user_no: str, amount: str, biz_type: str, project_no: str) -> str:
        """A successful freeze; its requestNo."""
        payload = self.platform.freeze(user_no, amount, biz_type, project_no)
        assert self.code("USER_AUTO_PRE_TRANSACTION", payload) == "00000"
        return payload["requestNo"]

    def balances(self, user_no: str) -> tuple[int, int]:
        """``(available, frozen)`` in fen."""
        body = self.session.get(f"{self.url}/balance-details/{user_no}", timeout=TIMEOUT).json()
        assert body["userNo"] == user_no, body
        return fen(body["balance"]), fen(body["frozen"])

    def many_balances(self, user_nos) -> dict[str, tuple[int, int]]:
        return {user_no: self.balances(user_no) for user_no in user_nos}

    def snapshot(self, user_nos) -> dict:
        """Everything a call could move: the users' balances, the platform's account and the bank's totals."""
        return {"users": self.many_balances(user_nos), "platform": self.balances(PLATFORM_NO), "totals": self.totals()}

    def totals(self) -> dict[str, int]:
        body = self.session.get(f"{self.url}/sandbox/totals", timeout=TIMEOUT).json()
        assert set(body) == {"cards", "available", "frozen", "platform", "total"}, body
        return {name: fen(value) for name, value in body.items()}

    def statement_lines(self, since: datetime) -> list[dict]:
        """Every statement line booked from the bank day of ``since`` to today's."""
        zone = ZoneInfo("Asia/Shanghai")
        day, last = since.astimezone(zone).date(), datetime.now(zone).date()
        lines = []
        while day <= last:
            body = self.session.get(f"{self.url}/statements", timeout=TIMEOUT,
                                    params={"platformNo": PLATFORM_NO, "date": day.isoformat()}).json()
            lines += body["transactions"]
            day += timedelta(days=1)
        return lines

    def query(self, request_no: str) -> requests.Response:
        return self.session.get(f"{self.url}/service/query", timeout=TIMEOUT,
                                params={"platformNo": PLATFORM_NO, "requestNo": request_no})


def line_effects(line: dict, platform_no: str = PLATFORM_NO) -> dict[tuple[str, str], int]:
    """What one statement line says it moved, in fen: ``{(userNo, "card" | "available" | "frozen"): delta}``
    (the platform's account as ``(platform_no, "available")``), read by the rules of docs/bank_sandbox.md."""
    user, amount, commission = line["userNo"], fen(line["amount"]), fen(line["commission"])
    effects: dict[tuple[str, str], int] = {}

    def add(account: str, part: str, delta: int) -> None:
        effects[(account, part)] = effects.get((account, part), 0) + delta

    service = line["serviceName"]
    if service == "RECHARGE":
        add(user, "card", -amount)
        add(user, "available", amount)
    elif service == "WITHDRAW":
        add(user, "available", -(amount + commission))
        add(user, "card", amount)
        add(platform_no, "available", commission)
    elif service == "USER_AUTO_PRE_TRANSACTION":
        add(user, "available", -amount)
        add(user, "frozen", amount)
    elif service == "CANCEL_PRE_TRANSACTION":
        add(user, "frozen", -amount)
        add(user, "available", amount)
    elif service == "CONFIRM_LOAN":
        for detail in line["details"]:
            add(detail["userNo"], "frozen", -fen(detail["amount"]))
        add(user, "available", amount - commission)
        add(platform_no, "available", commission)
    elif service == "CONFIRM_REPAYMENT":
        add(user, "frozen", -(amount + commission))
        for detail in line["details"]:
            add(detail["userNo"], "available", fen(detail["amount"]) + fen(detail["interest"]))
        add(platform_no, "available", commission)
    else:
        raise AssertionError(f"unknown statement line {line}")
    return effects


def yuan(amount: int) -> str:
    return format_fen(amount)

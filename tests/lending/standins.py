"""Stand-ins for what lending needs from the other services, following their contract to the letter
(docs/lending.md, "What lending needs from the other services"), so that lending's own tests can steer
the bank's answers and faults precisely; tests/e2e/test_lending_flow.py runs the same flows on the real
services:

- :class:`DepositoryStandIn`: the depository agent's transaction services (service token, RestResponse,
  200 final / 202 pending / 409 another body, idempotent by requestNo) in front of an in-memory bank
  with available and frozen balances, projects and pre-transactions, which publishes every final
  result on ``depository.gateway-notify`` (routing key = serviceName, message_id
  ``<serviceName>:<requestNo>``) in the test run's vhost.
- :class:`UserCenterStandIn`: user-center's additions for lending (find or create a user by mobile, a
  user's depository status, the one-time open-account link), opening the account at the stand-in
  bank and creating its wallet at the real ledger as user-center's consumer would.

Both are real HTTP servers in a thread of the test process; PostgreSQL, RabbitMQ and the ledger are
real.
"""
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import pika
from flask import Flask, jsonify, request

from shared.contract import (CANCEL_PRE_TRANSACTION, CONFIRM_LOAN, CONFIRM_REPAYMENT, CREATE_PROJECT,
                             GATEWAY_NOTIFY_EXCHANGE, MODIFY_PROJECT, OPENED, PRE_TRANSACTION, RESP_AMOUNTS_DIFFER,
                             RESP_BAD_PARAMETERS, RESP_INSUFFICIENT, RESP_NO_PRE_TRANSACTION, SUCCESS_CODE,
                             TRANSACTION_PATHS, UC_CONSUMER, UC_CONSUMERS, UC_OPEN_ACCOUNT_LINKS)
from shared.money import parse_yuan
from tests.user_center.standins import HttpStandIn

PLATFORM_NO = "WANXINP2P"
REQUIRED = {
    CREATE_PROJECT: ("requestNo", "projectNo", "userNo", "projectAmount", "projectName", "projectPeriod",
                     "annualRate", "repaymentWay"),
    MODIFY_PROJECT: ("requestNo", "projectNo", "projectStatus"),
    PRE_TRANSACTION: ("requestNo", "userNo", "amount", "bizType", "projectNo"),
    CANCEL_PRE_TRANSACTION: ("requestNo", "preRequestNo", "userNo", "amount"),
    CONFIRM_LOAN: ("requestNo", "projectNo", "commission", "details"),
    CONFIRM_REPAYMENT: ("requestNo", "preRequestNo", "projectNo", "commission", "details"),
}


def fen(yuan: str) -> int:
    return 0 if yuan in ("0.00", "0") else parse_yuan(yuan, max_fen=10**15)


@dataclass
class Account:
    available: int = 0
    frozen: int = 0


@dataclass
class Faults:
    """Per service: answer 202 and settle ``pending_seconds`` later; apply, then answer only after
    ``hang_seconds`` (the caller times out); refuse the next call of a service (of one project, when
    given) with a code (``refusals``: [(service, projectNo or None, code)]); be down (503)."""

    pending: set = field(default_factory=set)
    pending_seconds: float = 1.0
    hang: set = field(default_factory=set)
    hang_seconds: float = 3.0
    refusals: list = field(default_factory=list)
    down: bool = False

    def refuse_next(self, service: str, code: str, project_no: str | None = None) -> None:
        self.refusals.append((service, project_no, code))

    def take_refusal(self, service: str, project_no: str | None) -> str | None:
        for refusal in self.refusals:
            if refusal[0] == service and refusal[1] in (None, project_no):
                self.refusals.remove(refusal)
                return refusal[2]
        return None


class DepositoryStandIn(HttpStandIn):
    def __init__(self, token: str, amqp_url: str):
        self.token, self.amqp_url = token, amqp_url
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {PLATFORM_NO: Account()}
        self.projects: dict[str, dict] = {}
        self.pre: dict[str, dict] = {}
        self.records: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []
        self.faults = Faults()
        self.publish_lock = threading.Lock()
        app = Flask("depository-standin")
        for service, path in TRANSACTION_PATHS.items():
            app.add_url_rule(path, service, lambda service=service: self._call(service), methods=["POST"])
        super().__init__(app)

    # --- test controls ------------------------------------------------------------------------------
    def open_account(self, user_no: str, available: int = 0) -> None:
        with self.lock:
            self.accounts.setdefault(user_no, Account()).available += available

    def balance(self, user_no: str) -> Account:
        with self.lock:
            account = self.accounts.get(user_no, Account())
            return Account(account.available, account.frozen)

    def total(self) -> int:
        with self.lock:
            return sum(account.available + account.frozen for account in self.accounts.values())

    def calls_of(self, service: str) -> list[dict]:
        return [body for name, body in self.calls if name == service]

    def reset_faults(self) -> None:
        self.faults = Faults()

    # --- the agent's endpoints ------------------------------------------------------------------------
    def _call(self, service: str):
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required", result=None), 401
        if self.faults.down:
            return jsonify(code=950, msg="agent unavailable", result=None), 503
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or any(name not in body for name in REQUIRED[service]):
            return jsonify(code=903, msg=f"{service} needs {', '.join(REQUIRED[service])}", result=None), 400
        with self.lock:
            self.calls.append((service, body))
            record = self.records.get(body["requestNo"])
            if record is not None:
                if record["body"] != body or record["service"] != service:
                    return jsonify(code=909, msg="requestNo used with another body", result=None), 409
                return self._answer(service, body["requestNo"], record["result"])
            result = self._decide(service, body)
            pending = service in self.faults.pending
            self.records[body["requestNo"]] = {"service": service, "body": body, "result": None if pending else result}
        if pending:
            threading.Timer(self.faults.pending_seconds, self._settle_later,
                            (service, body["requestNo"], result)).start()
            return self._answer(service, body["requestNo"], None)
        self._publish(service, body["requestNo"], result)
        if service in self.faults.hang:
            time.sleep(self.faults.hang_seconds)
        return self._answer(service, body["requestNo"], result)

    def _settle_later(self, service: str, request_no: str, result: dict) -> None:
        with self.lock:
            self.records[request_no]["result"] = result
        self._publish(service, request_no, result)

    @staticmethod
    def _answer(service: str, request_no: str, result: dict | None):
        if result is None:
            return jsonify(code=0, msg="accepted, the bank has not answered yet", result={
                "requestNo": request_no, "serviceName": service, "status": 0, "respCode": "", "respMsg": ""}), 202
        return jsonify(code=0, msg="success", result={"requestNo": request_no, "serviceName": service, **result}), 200

    def _decide(self, service: str, body: dict) -> dict:
        """The bank: apply the request (moving money) or refuse it (moving nothing)."""
        forced = self.faults.take_refusal(service, body.get("projectNo") or self._project_of(body))
        if forced:
            return _result(forced)
        handler = {CREATE_PROJECT: self._create_project, MODIFY_PROJECT: self._modify_project,
                   PRE_TRANSACTION: self._freeze, CANCEL_PRE_TRANSACTION: self._cancel,
                   CONFIRM_LOAN: self._confirm_loan, CONFIRM_REPAYMENT: self._confirm_repayment}[service]
        try:
            return handler(body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return _result(RESP_BAD_PARAMETERS, str(exc))

    def _project_of(self, body: dict) -> str | None:
        pre = self.pre.get(body.get("preRequestNo"))
        return pre["projectNo"] if pre else None

    def _create_project(self, body):
        if body["projectNo"] in self.projects:
            return _result(RESP_BAD_PARAMETERS, "project exists")
        self.projects[body["projectNo"]] = {"userNo": body["userNo"], "status": "COLLECTING",
                                            "amount": fen(body["projectAmount"])}
        return _result(SUCCESS_CODE)

    def _modify_project(self, body):
        if body["projectNo"] not in self.projects:
            return _result(RESP_BAD_PARAMETERS, "no such project")
        self.projects[body["projectNo"]]["status"] = body["projectStatus"]
        return _result(SUCCESS_CODE)

    def _freeze(self, body):
        amount, account = fen(body["amount"]), self.accounts.get(body["userNo"])
        if body["projectNo"] not in self.projects or account is None or body["bizType"] not in ("TENDER", "REPAYMENT"):
            return _result(RESP_BAD_PARAMETERS, "unknown project or user")
        if account.available < amount:
            return _result(RESP_INSUFFICIENT, "available balance insufficient")
        account.available -= amount
        account.frozen += amount
        self.pre[body["requestNo"]] = {"userNo": body["userNo"], "projectNo": body["projectNo"],
                                       "bizType": body["bizType"], "remaining": amount}
        return _result(SUCCESS_CODE)

    def _cancel(self, body):
        pre = self.pre.get(body["preRequestNo"])
        if pre is None or pre["userNo"] != body["userNo"] or pre["remaining"] == 0:
            return _result(RESP_NO_PRE_TRANSACTION, "pre-transaction not found or used")
        if fen(body["amount"]) != pre["remaining"]:
            return _result(RESP_AMOUNTS_DIFFER, "amount differs from what the pre-transaction holds")
        account = self.accounts[pre["userNo"]]
        account.frozen -= pre["remaining"]
        account.available += pre["remaining"]
        pre["remaining"] = 0
        return _result(SUCCESS_CODE)

    def _confirm_loan(self, body):
        project = self.projects.get(body["projectNo"])
        if project is None:
            return _result(RESP_BAD_PARAMETERS, "no such project")
        details = [(self.pre.get(d["preRequestNo"]), fen(d["amount"])) for d in body["details"]]
        for pre, amount in details:
            if pre is None or pre["projectNo"] != body["projectNo"] or pre["bizType"] != "TENDER" \
                    or not pre["remaining"]:
                return _result(RESP_NO_PRE_TRANSACTION, "tender not found, of another project, or used")
            if pre["remaining"] != amount:
                return _result(RESP_AMOUNTS_DIFFER, "detail amount differs from the tender")
        borrower, commission = self.accounts.setdefault(project["userNo"], Account()), fen(body["commission"])
        if sum(amount for _, amount in details) < commission:
            return _result(RESP_AMOUNTS_DIFFER, "commission above the loan")
        for pre, amount in details:
            self.accounts[pre["userNo"]].frozen -= amount
            pre["remaining"] = 0
            borrower.available += amount
        borrower.available -= commission
        self.accounts[PLATFORM_NO].available += commission
        return _result(SUCCESS_CODE)

    def _confirm_repayment(self, body):
        project, pre = self.projects.get(body["projectNo"]), self.pre.get(body["preRequestNo"])
        if project is None or pre is None or pre["bizType"] != "REPAYMENT" or pre["projectNo"] != body["projectNo"] \
                or pre["userNo"] != project["userNo"] or not pre["remaining"]:
            return _result(RESP_NO_PRE_TRANSACTION, "repayment freeze not found, of another project, or used")
        payouts = [(d["userNo"], fen(d["amount"]) + fen(d["interest"])) for d in body["details"]]
        commission = fen(body["commission"])
        if sum(amount for _, amount in payouts) + commission != pre["remaining"]:
            return _result(RESP_AMOUNTS_DIFFER, "the freeze differs from what is paid out")
        self.accounts[pre["userNo"]].frozen -= pre["remaining"]
        pre["remaining"] = 0
        for user_no, amount in payouts:
            self.accounts.setdefault(user_no, Account()).available += amount
        self.accounts[PLATFORM_NO].available += commission
        return _result(SUCCESS_CODE)

    def _publish(self, service: str, request_no: str, result: dict) -> None:
        """Every final result goes out on depository.gateway-notify, as the agent's outbox would send it."""
        body = json.dumps({"requestNo": request_no, **result, "serviceName": service}).encode()
        with self.publish_lock:
            connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
            try:
                channel = connection.channel()
                channel.exchange_declare(GATEWAY_NOTIFY_EXCHANGE, exchange_type="topic", durable=True)
                channel.confirm_delivery()
                channel.basic_publish(GATEWAY_NOTIFY_EXCHANGE, service, body, pika.BasicProperties(
                    delivery_mode=2, content_type="application/json", message_id=f"{service}:{request_no}"))
            finally:
                connection.close()


def _result(code: str, msg: str = "") -> dict:
    success = code == SUCCESS_CODE
    return {"status": 1 if success else 2, "respCode": code, "respMsg": msg or ("ok" if success else "refused")}


class UserCenterStandIn(HttpStandIn):
    """user-center's lending additions; ``open_account`` does what the bank's PERSONAL_REGISTER result
    does there (status OPENED, the wallet created at the ledger), and following a link opens it too."""

    def __init__(self, token: str, bank: DepositoryStandIn, ledger):
        self.token, self.bank, self.ledger = token, bank, ledger
        self.lock = threading.Lock()
        self.users: dict[str, dict] = {}
        self.links: dict[str, dict] = {}
        self.link_requests: list[dict] = []
        self.down = False
        app = Flask("user-center-standin")
        app.before_request(self._auth)
        app.post(UC_CONSUMERS)(self._find_or_create)
        app.get(UC_CONSUMER.replace("{userNo}", "<user_no>"))(self._status)
        app.post(UC_OPEN_ACCOUNT_LINKS)(self._link)
        app.get("/open-account/<token>")(self._follow)
        super().__init__(app)

    def _auth(self):
        if request.path.startswith("/open-account/"):
            return None
        if self.down:
            return jsonify(code=950, msg="user-center unavailable", result=None), 503
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required", result=None), 401
        return None

    def _find_or_create(self):
        body = request.get_json()
        with self.lock:
            user = self.users.get(body["mobile"])
            if user is not None and user["idNumber"] != body["idNumber"]:
                return jsonify(code=909, msg="this mobile belongs to another person", result=None), 409
            created = user is None
            if created:
                user = self.users[body["mobile"]] = {"userNo": "USR_" + uuid.uuid4().hex.upper(), "status": "NONE",
                                                     "idNumber": body["idNumber"], "fullname": body["fullname"]}
        return jsonify(code=0, msg="success", result={"userNo": user["userNo"], "depositoryStatus": user["status"]}), \
            201 if created else 200

    def _user(self, user_no: str) -> dict | None:
        return next((user for user in self.users.values() if user["userNo"] == user_no), None)

    def _status(self, user_no: str):
        user = self._user(user_no)
        if user is None:
            return jsonify(code=908, msg="unknown user", result=None), 404
        return jsonify(code=0, msg="success", result={"userNo": user_no, "depositoryStatus": user["status"]})

    def _link(self):
        body = request.get_json()
        self.link_requests.append(body)
        token = secrets.token_urlsafe(16)
        self.links[token] = {"userNo": body["userNo"], "used": False,
                             "expires": time.time() + body["validMinutes"] * 60}
        return jsonify(code=0, msg="success", result={"url": f"{self.url}/open-account/{token}",
                                                      "expiresAt": int(self.links[token]["expires"])})

    def _follow(self, token: str):
        link = self.links.get(token)
        if link is None or link["used"] or link["expires"] < time.time():
            return "this link was used or has expired", 410
        link["used"] = True
        self.open_account(link["userNo"])
        return "account opened", 200

    def open_account(self, user_no: str, available: int = 0) -> None:
        """The bank opened the account: OPENED, the wallet at the ledger, ``available`` fen recharged."""
        self.bank.open_account(user_no)
        self.ledger.create_account(user_no, user_no)
        if available:
            recharge(self.bank, self.ledger, user_no, available)
        with self.lock:
            self._user(user_no)["status"] = OPENED

    def user_no_of(self, mobile: str) -> str:
        return self.users[mobile]["userNo"]


def recharge(bank: DepositoryStandIn, ledger, user_no: str, amount: int) -> None:
    """Money recharged into a depository account, and its mirror at the ledger (as a RECHARGE does)."""
    bank.open_account(user_no, amount)
    ledger.create_account(user_no, user_no)
    ledger.add(user_no, "RCH_" + uuid.uuid4().hex.upper(), amount)

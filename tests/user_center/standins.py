"""Test doubles of OTHER services (beanpay-ledger, depository-agent, lending) implementing just their contracts.

They run as real HTTP servers in a thread of the test process so user-center talks to them over
HTTP exactly as it would to the real services. PostgreSQL and RabbitMQ are never doubled.
"""
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from lending.api.schemas import LoansData
from shared.errors import RecordNotFound
from shared.signing import encode_wanxin, load_key
from tests.support.processes import free_port


class HttpStandIn:
    """A Flask app served on 127.0.0.1 in a background thread; ``stop()``/``start()`` keep the port."""

    def __init__(self, app: Flask, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None

    def start(self) -> "HttpStandIn":
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listening socket: callers now get 'connection refused'."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class LedgerStandIn(HttpStandIn):
    """beanpay-ledger's account/balance API (docs/protocols.md) in memory, idempotent by trade_no."""

    def __init__(self, token: str, port: int | None = None):
        self.token = token
        self.accounts: dict[str, int] = {}
        self.records: dict[tuple[str, int, str], dict] = {}
        self.lock = threading.Lock()
        self.add_delay = 0.0  # seconds to wait after applying an add, before answering
        self.add_applied = threading.Event()
        self.request_ids: list[tuple[str, str | None]] = []  # (path, X-Request-Id) of every call
        app = Flask("ledger-standin")
        app.before_request(self._auth)
        app.post("/account/create")(self._create)
        for change_type, name in ((1, "add"), (2, "deduct"), (3, "refund")):
            app.add_url_rule(f"/account/balance/{name}", name, lambda kind=change_type: self._post(kind),
                             methods=["POST"])
        app.post("/account/balance/query")(self._query)
        super().__init__(app, port)

    def _auth(self):
        self.request_ids.append((request.path, request.headers.get("X-Request-Id")))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required"), 401
        return None

    def _create(self):
        eid = request.json["eid"]
        with self.lock:
            existed = eid in self.accounts
            self.accounts.setdefault(eid, 0)
        return jsonify(account_id=eid, eid=eid, balance=self.accounts[eid], credit=0), 201 if existed else 200

    def _post(self, change_type: int):
        body = request.json
        eid, trade_no, amount = body["eid"], body["trade_no"], int(body["amount"])
        with self.lock:
            if eid not in self.accounts:
                return jsonify(code=908, msg="unknown account"), 404
            key = (eid, change_type, trade_no)
            if key in self.records:
                original = self.records[key]
                if abs(original["amount"]) != amount:
                    return jsonify(code=909, msg="trade_no used with another amount"), 409
                return jsonify(original), 201
            if change_type == 3:
                deduct = self.records.get((eid, 2, trade_no))
                if deduct is None:
                    return jsonify(code=908, msg="unknown deduct"), 404
                if amount > -deduct["amount"]:
                    return jsonify(code=903, msg="refund exceeds the deduct"), 400
            signed = -amount if change_type == 2 else amount
            if self.accounts[eid] + signed < 0:
                return jsonify(code=904, msg="insufficient balance"), 422
            self.accounts[eid] += signed
            record = {"eid": eid, "trade_no": trade_no, "change_type": change_type, "amount": signed,
                      "balance": self.accounts[eid]}
            self.records[key] = record
        if change_type == 1:
            self.add_applied.set()
            time.sleep(self.add_delay)
        return jsonify(record), 200

    def _query(self):
        eid = request.json["eid"]
        if eid not in self.accounts:
            return jsonify(code=908, msg="unknown account"), 404
        return jsonify(account_id=eid, eid=eid, balance=self.accounts[eid], credit=0)

    def postings(self, eid: str, change_type: int) -> list[dict]:
        """The applied postings of one type (1 add, 2 deduct, 3 refund) for ``eid``."""
        return [record for (owner, kind, _), record in self.records.items() if owner == eid and kind == change_type]


SERVICE_NAMES = {"/l/consumers": "PERSONAL_REGISTER", "/l/recharges": "RECHARGE", "/l/withdraws": "WITHDRAW"}


class AgentStandIn(HttpStandIn):
    """depository-agent's ``/l/`` contract: signs the body with the platform key, answers a GatewayRequest."""

    def __init__(self, token: str, keys_dir: str):
        self.token = token
        self.private_key = load_key(f"{keys_dir}/platform_private.pem")
        self.calls: list[tuple[str, dict]] = []
        self.fail_with: int | None = None  # answer this HTTP status instead of a GatewayRequest
        self.signed: set[str] = set()  # requestNos answered with a GatewayRequest (the agent's records)
        self.record_answer: tuple[int, dict] | None = None  # answer GET /l/records with this (status, body)
        app = Flask("agent-standin")
        for path in SERVICE_NAMES:
            app.add_url_rule(path, path, self._gateway_request, methods=["POST"])
        app.add_url_rule("/l/records/<request_no>", "record", self._record)
        super().__init__(app)

    def _record(self, request_no: str):
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required", result=None), 401
        if self.record_answer is not None:
            status, body = self.record_answer
            return jsonify(body), status
        if request_no not in self.signed:
            return jsonify(code=RecordNotFound.code, msg=f"no depository record {request_no}", result=None), 404
        return jsonify(code=0, msg="success", result={"requestNo": request_no, "requestStatus": 0})

    def _gateway_request(self):
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required", result=None), 401
        self.calls.append((request.path, request.json))
        if self.fail_with:
            return jsonify(code=950, msg="agent trouble", result=None), self.fail_with
        self.signed.add(request.json["requestNo"])
        req_data, signature = encode_wanxin(request.json, self.private_key)
        return jsonify(code=0, msg="success", result={
            "serviceName": SERVICE_NAMES[request.path], "platformNo": "WANXINP2P", "reqData": req_data,
            "signature": signature, "depositoryUrl": "http://127.0.0.1:8005/gateway"})


def loan_of(user_no: str, amount: int = 300_000) -> dict:
    """A disbursed 3-month loan as lending's ``/internal/loans`` answers it (fen)."""
    return {"orderNo": "ORD-" + user_no[-8:], "borrowNo": "BRW_" + user_no[4:], "status": 30, "amount": amount,
            "serviceFee": 1_501, "term": 3, "annualRate": "0.18", "repaymentWay": "FIXED_REPAYMENT",
            "loanTime": "2026-12-01 10:00:00",
            "plans": [{"period": period, "dueDate": f"2027-0{period}-01", "principal": 100_000, "interest": 4_501,
                       "total": 104_501, "penalty": 0, "paid": 104_501 if period == 1 else 0,
                       "status": 1 if period == 1 else 0, "overdueDays": 0} for period in (1, 2, 3)]}


class LendingStandIn(HttpStandIn):
    """lending's ``GET /internal/loans?userNo=`` (service token): ``loans[userNo]`` (else ``[every_user(userNo)]``
    when given, else none), or ``answer`` when set."""

    def __init__(self, token: str, every_user=None):
        self.token, self.every_user = token, every_user
        self.loans: dict[str, list] = {}
        self.asked: list[str] = []
        self.answer: tuple[int, object] | None = None
        self.lock = threading.Lock()
        app = Flask("lending-standin")
        app.get("/internal/loans")(self._loans)
        super().__init__(app)

    def _loans(self):
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(code=901, msg="service token required"), 401
        self.asked.append(request.args["userNo"])
        if self.answer is not None:
            status, body = self.answer
            return (jsonify(body) if not isinstance(body, str) else body), status
        user_no = request.args["userNo"]
        answer = {"loans": self.loans.get(user_no, [self.every_user(user_no)] if self.every_user else [])}
        assert LoansData().validate(answer) == {}, "the stand-in answers what lending's schema says"
        return jsonify(answer)

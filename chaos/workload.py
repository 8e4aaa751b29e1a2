"""The campaign's traffic: platform users who recharge and withdraw through user-center and confirm at
the bank sandbox, Huifu customers who register and recharge through the sandbox's /huifu endpoints, and
borrowers who take a loan through lending and repay it (chaos/loans.py).

Every actor runs its operations in order (a withdraw needs earlier recharges; a netsave needs the
registration), while a pool of threads interleaves the actors. Transient failures (connection
errors, 5xx) are retried as a user would: a new gateway request, or the same confirmation again; a
withdraw that keeps failing for a few seconds (its hold cannot be taken while the ledger is away)
is put off behind the user's next operations, so recharges go on meanwhile.
What the campaign asked for and what the bank answered is kept in :class:`Journal`, the expectation
against which the platform is verified afterwards.
"""
import base64
import json
import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from shared.money import format_fen

from chaos.options import Options

log = logging.getLogger("chaos.workload")

RECHARGE, WITHDRAW, NETSAVE, REGISTER = "RECHARGE", "WITHDRAW", "NETSAVE", "REGISTER"
SUCCESS, FAIL, ABANDON, UNKNOWN, EXPIRED = "success", "fail", "abandon", "unknown", "expired"
EXPIRED_CODE = "20007"  # the bank's refusal of a request whose expired has passed
TRANSIENT = (500, 502, 503, 504)
BANK_PASSWORD = "246810"
USER_PASSWORD = "chaos-pass-1"
MAX_DEFERRALS = 200
# how long a user retries one withdraw before doing something else first (it comes back to it later)
WITHDRAW_PATIENCE = 5.0
# journal counters of every recharge / withdraw request sent to user-center, retries included
RECHARGE_POSTS, WITHDRAW_POSTS = "recharge_posts", "withdraw_posts"


class ApiError(Exception):
    """An answer the campaign did not expect (a refusal that no retry can fix)."""


class StillFailing(ApiError):
    """A call that kept failing transiently (connection errors, 5xx) for as long as the caller waited."""


@dataclass
class Request:
    """One money request the campaign made: a wanxin recharge/withdraw or a Huifu netsave."""

    kind: str
    number: str               # requestNo, or the netsave's OrdId
    owner: str                # userNo, or the Huifu openid
    amount: int               # fen
    commission: int = 0       # fen (withdraws)
    intent: str = SUCCESS     # success, fail, or abandon (never brought to the bank)
    answer: str = UNKNOWN     # what the bank's confirmation answered: success, fail or unknown
    truth: str | None = None  # what the bank's books say, filled in by the verification


@dataclass
class Journal:
    """Everything the traffic did, thread-safe; read once the traffic has ended."""

    requests: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def count(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + by


class Http:
    """Thread-local sessions with the campaign's retry rule for transient failures."""

    def __init__(self, journal: Journal, patience: float = 60.0):
        self.local = threading.local()
        self.journal = journal
        self.patience = patience

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, url: str, ok=(200, 201), label: str = "", patience: float | None = None,
             **kwargs) -> requests.Response:
        """The response once its status is in ``ok`` (or is a non-transient refusal); retries
        connection errors and 5xx with a growing pause for up to ``patience`` seconds (the client's
        by default; :class:`StillFailing` then), counting them as ``api_retries``. Each attempt is
        also counted under ``label`` when one is given."""
        patience = self.patience if patience is None else patience
        deadline = time.monotonic() + patience
        attempt = 0
        while True:
            attempt += 1
            if label:
                self.journal.count(label)
            try:
                response = self.session().request(method, url, timeout=15, **kwargs)
                if response.status_code not in TRANSIENT:
                    return response
                reason = f"{response.status_code} {response.text[:120]}"
            except requests.RequestException as exc:
                reason = exc.__class__.__name__
            if time.monotonic() >= deadline:
                raise StillFailing(f"{method} {url}: still failing after {attempt} attempts in {patience:.0f}s"
                                   f" ({reason})")
            self.journal.count("api_retries")
            log.info("%s %s: %s (attempt %d)", method, url, reason, attempt)
            time.sleep(min(0.1 * attempt, 1.0))


def request_no_of(gateway: dict) -> str:
    return json.loads(base64.b64decode(gateway["reqData"]))["requestNo"]


class PlatformUser:
    """A user of the platform: an opened depository account, a token, and operations to run."""

    def __init__(self, http: Http, urls: dict, journal: Journal, rng: random.Random, commission: int,
                 abandon_rate: float, fail_rate: float, callback_url: str):
        self.http, self.urls, self.journal, self.rng = http, urls, journal, rng
        self.callback_url = callback_url
        self.commission = commission
        self.abandon_rate, self.fail_rate = abandon_rate, fail_rate
        self.mobile = "1" + str(uuid.uuid4().int)[:10]
        self.user_no = ""
        self.headers: dict = {}
        self.operations: list = []
        self.available = 0  # fen the campaign knows are credited or on their way, minus holds
        self.deferrals = 0

    # -- account ---------------------------------------------------------------------------
    def sign_up(self) -> None:
        uc = self.urls["user_center"]
        answer = self.http.call("POST", f"{uc}/consumers", json={"mobile": self.mobile, "password": USER_PASSWORD})
        if answer.status_code not in (201, 409):
            raise ApiError(f"register: {answer.status_code} {answer.text[:200]}")
        token = self.http.call("POST", f"{uc}/tokens", json={"mobile": self.mobile, "password": USER_PASSWORD})
        if token.status_code != 200:
            raise ApiError(f"token: {token.status_code} {token.text[:200]}")
        self.headers = {"Authorization": f"Bearer {token.json()['result']['access_token']}"}
        gateway = self.gateway("/my/consumers", {
            "fullname": "张三", "idNumber": "110101199003077777", "bankCode": "ICBC",
            "cardNumber": "6222020200112233445", "mobile": self.mobile, "role": "I",
            "callbackUrl": self.callback_url})
        self.confirm(gateway, SUCCESS)

    def profile(self) -> dict:
        answer = self.http.call("GET", f"{self.urls['user_center']}/my/consumers", headers=self.headers)
        return answer.json()["result"]

    def balance(self) -> str:
        answer = self.http.call("GET", f"{self.urls['user_center']}/my/balances", headers=self.headers)
        return answer.json()["result"]["balance"]

    # -- bank protocol -------------------------------------------------------------------
    def gateway(self, path: str, body: dict, label: str = "", patience: float | None = None) -> dict | None:
        """A GatewayRequest from user-center; ``None`` for an insufficient balance (422). Every
        attempt is counted under ``label`` (when the faults want to know what flowed meanwhile)."""
        answer = self.http.call("POST", f"{self.urls['user_center']}{path}", json=body, headers=self.headers,
                                label=label, patience=patience)
        if answer.status_code == 422:
            return None
        if answer.status_code != 200:
            raise ApiError(f"POST {path}: {answer.status_code} {answer.text[:200]}")
        return answer.json()["result"]

    def confirm(self, gateway: dict, outcome: str) -> str:
        """Confirm at the bank; success/fail as answered, UNKNOWN when an earlier try already settled it."""
        answer = self.http.call("POST", f"{self.urls['bank_sandbox']}/sandbox/confirm", json={
            "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
            "password": BANK_PASSWORD, "outcome": outcome})
        if answer.status_code == 409:  # a retried confirmation whose first try went through
            self.journal.count("confirm_replays")
            return UNKNOWN
        if answer.status_code == 400 and _json(answer).get("respCode") == EXPIRED_CODE:
            self.journal.count("confirm_expired")  # faults delayed it past the request's expiry: never paid
            return EXPIRED
        if answer.status_code != 200:
            raise ApiError(f"confirm: {answer.status_code} {answer.text[:200]}")
        return SUCCESS if answer.json()["status"] == 1 else FAIL

    # -- operations ----------------------------------------------------------------------
    def run_next(self) -> bool:
        """Run the next operation; False when it was put off (a withdraw the balance cannot cover yet)."""
        kind = self.operations[0]
        done = self.recharge() if kind == RECHARGE else self.withdraw()
        if done:
            self.operations.pop(0)
        return done

    def _intent(self) -> str:
        draw = self.rng.random()
        if draw < self.abandon_rate:
            return ABANDON
        return FAIL if draw < self.abandon_rate + self.fail_rate else SUCCESS

    def recharge(self) -> bool:
        amount = self.rng.randint(1000, 100000)
        intent = self._intent()
        gateway = self.gateway("/my/recharge-records", {"amount": format_fen(amount), "callbackUrl": self.callback_url},
                               label=RECHARGE_POSTS)
        request = Request(RECHARGE, request_no_of(gateway), self.user_no, amount, intent=intent)
        self.journal.add(request)
        if intent != ABANDON:
            request.answer = self.confirm(gateway, intent)
            _abandon_if_expired(request)
            if request.answer != FAIL and request.intent != ABANDON:
                self.available += amount
        return True

    def withdraw(self) -> bool:
        room = self.available - self.commission
        if room < 100:
            if RECHARGE not in self.operations:  # no money will come: nothing to withdraw
                self.journal.count("withdraws_skipped_no_funds")
                return True
            return self._defer("withdraw_waits_for_balance")
        amount = self.rng.randint(100, min(5000, room))
        intent = self._intent()
        try:
            gateway = self.gateway("/my/withdraw-records", {"amount": format_fen(amount),
                                                             "callbackUrl": self.callback_url},
                                   label=WITHDRAW_POSTS, patience=WITHDRAW_PATIENCE)
        except StillFailing:  # the hold cannot be taken now (the ledger is away): recharge first, come back
            return self._defer("withdraw_put_off_5xx")
        if gateway is None:  # the ledger has not credited the earlier recharges yet
            return self._defer("withdraw_refused_422")
        request = Request(WITHDRAW, request_no_of(gateway), self.user_no, amount, self.commission, intent=intent)
        self.journal.add(request)
        self.available -= amount + self.commission
        if intent != ABANDON:
            request.answer = self.confirm(gateway, intent)
            _abandon_if_expired(request)
            if request.answer == FAIL or request.intent == ABANDON:
                self.available += amount + self.commission
        return True

    def _defer(self, reason: str) -> bool:
        self.journal.count(reason)
        self.deferrals += 1
        if self.deferrals > MAX_DEFERRALS:
            self.journal.count("withdraws_given_up")
            return True
        # try something else first; wait a little when nothing else is left
        if len(self.operations) > 1:
            self.operations.insert(min(2, len(self.operations)), self.operations.pop(0))
        else:
            time.sleep(0.05)
        return False


class HuifuCustomer:
    """A Huifu customer: registers (UserRegister callback), then recharges (NetSave callbacks)."""

    def __init__(self, http: Http, urls: dict, journal: Journal, rng: random.Random, prefix: str, index: int,
                 fail_rate: float):
        self.http, self.urls, self.journal, self.rng = http, urls, journal, rng
        self.openid = f"cx{prefix}{index:05d}{uuid.uuid4().hex[:8]}"[:25]
        self.order_prefix = f"{int(prefix, 16) % 10**8:08d}{index:05d}"  # Huifu OrdIds are digits only
        self.cust_id = ""
        self.operations: list = [REGISTER]
        self.orders = 0
        self.fail_rate = fail_rate

    def run_next(self) -> bool:
        kind = self.operations.pop(0)
        if kind == REGISTER:
            answer = self.http.call("POST", f"{self.urls['bank_sandbox']}/huifu/register", json={"usrId": self.openid})
            if answer.status_code != 200:
                raise ApiError(f"huifu register: {answer.status_code} {answer.text[:200]}")
            self.cust_id = answer.json()["usrCustId"]
            self.journal.count("huifu_registers")
            return True
        self.orders += 1
        ord_id = f"{self.order_prefix}{self.orders:06d}"
        amount = self.rng.randint(100, 50000)
        outcome = FAIL if self.rng.random() < self.fail_rate else SUCCESS
        request = Request(NETSAVE, ord_id, self.openid, amount, intent=outcome)
        self.journal.add(request)
        answer = self.http.call("POST", f"{self.urls['bank_sandbox']}/huifu/netsave", json={
            "usrCustId": self.cust_id, "amount": format_fen(amount), "ordId": ord_id, "outcome": outcome})
        if answer.status_code != 200:
            raise ApiError(f"huifu netsave: {answer.status_code} {answer.text[:200]}")
        request.answer = SUCCESS if answer.json()["respCode"] == "000" else FAIL
        return True


def fen_of(yuan: str) -> int:
    """Fen of a yuan string as the services answer it ("123.45", "0.00", "-1.20")."""
    whole, _, cents = yuan.strip().partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((cents + "00")[:2]))


class Traffic:
    """Builds the actors and drives them from a pool of threads; ``progress()`` is the share done."""

    def __init__(self, options: Options, urls: dict, partner_secret: str = ""):
        self.options = options
        self.urls = urls
        self.journal = Journal()
        self.http = Http(self.journal, options.client_patience)
        self.rng = random.Random(options.seed)
        self.run_tag = uuid.uuid4().hex[:6].upper()
        commission = fen_of(options.commission)
        callback_url = f"{options.frontend_origin}#/callback"
        self.users = [PlatformUser(self.http, urls, self.journal, random.Random(self.rng.random()), commission,
                                   options.abandon_rate, options.fail_rate, callback_url) for _ in range(options.users)]
        self.customers = [HuifuCustomer(self.http, urls, self.journal, random.Random(self.rng.random()),
                                        self.run_tag, index, options.fail_rate)
                          for index in range(options.huifu_users)]
        from chaos.loans import Borrower  # chaos.loans builds on this module's Http, Journal and Request

        self.borrowers = [Borrower(self.http, urls, self.journal, random.Random(self.rng.random()), partner_secret,
                                   callback_url)
                          for _ in range(options.loans)]
        self.bank_totals: dict = {}  # /sandbox/totals in fen once the accounts are open (the campaign sets it)
        self._plan()
        self.total = sum(len(actor.operations) for actor in self.users + self.customers + self.borrowers)
        self.done = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.actors: queue.Queue = queue.Queue()
        self.waiting_customers = list(self.customers)
        self.remaining = 0

    def _plan(self) -> None:
        """Spread the requests over the actors: each user starts with recharges, then a shuffled mix."""
        for index in range(self.options.recharges):
            self.users[index % len(self.users)].operations.append(RECHARGE)
        for index in range(self.options.withdraws):
            self.users[index % len(self.users)].operations.append(WITHDRAW)
        for user in self.users:
            head, tail = user.operations[:2], user.operations[2:]
            self.rng.shuffle(tail)
            user.operations = head + tail
        for index in range(self.options.netsaves):
            self.customers[index % len(self.customers)].operations.append(NETSAVE)

    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    def open_accounts(self) -> None:
        """Every platform user registers, logs in and opens the depository account (in parallel)."""
        self._parallel(self.users, lambda user: user.sign_up())
        deadline = time.monotonic() + 120
        waiting = list(self.users)
        while waiting and time.monotonic() < deadline:
            still = []
            for user in waiting:
                profile = user.profile()
                if profile["depositoryStatus"] == "OPENED":
                    user.user_no = profile["userNo"]
                else:
                    still.append(user)
            waiting = still
            if waiting:
                time.sleep(0.3)
        if waiting:
            raise ApiError(f"{len(waiting)} accounts were not opened within 120 s")

    def run(self) -> None:
        """Run every operation of every actor; returns when all are done (or a thread failed).

        Platform users start at once; Huifu customers join one by one as the traffic progresses (and
        on :meth:`release_customer`), so registrations keep arriving during the whole run.
        """
        users = [user for user in self.users if user.operations] + self.borrowers
        self.rng.shuffle(users)
        for user in users:
            self.actors.put(user)
        self.remaining = len(users) + len(self.customers)
        threads = [threading.Thread(target=self._drive, daemon=True) for _ in range(self.options.threads)]
        threads.append(threading.Thread(target=self._feed_customers, daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def release_customer(self) -> bool:
        """Let the next waiting Huifu customer start now; False when none is left."""
        with self.lock:
            if not self.waiting_customers:
                return False
            customer = self.waiting_customers.pop(0)
        self.actors.put(customer)
        return True

    def _feed_customers(self) -> None:
        marks = [0.9 * index / max(len(self.customers), 1) for index in range(len(self.customers))]
        for mark in marks:
            while self.progress() < mark and not self.actors.empty() and not self.errors:
                time.sleep(0.02)
            if not self.release_customer():
                return

    def _drive(self) -> None:
        while self.remaining and not self.errors:
            try:
                actor = self.actors.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                if actor.run_next():
                    with self.lock:
                        self.done += 1
            except Exception as exc:  # an unexpected refusal: stop the traffic and report it
                log.exception("traffic stopped")
                self.errors.append(f"{exc.__class__.__name__}: {exc}")
                return
            if actor.operations:
                self.actors.put(actor)
            else:
                with self.lock:
                    self.remaining -= 1

    def _parallel(self, actors: list, action) -> None:
        work: queue.Queue = queue.Queue()
        for actor in actors:
            work.put(actor)

        def drain():
            while True:
                try:
                    actor = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    action(actor)
                except Exception as exc:
                    self.errors.append(f"{exc.__class__.__name__}: {exc}")
                    return

        threads = [threading.Thread(target=drain, daemon=True) for _ in range(self.options.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.errors:
            raise ApiError("; ".join(self.errors[:3]))


def _json(answer) -> dict:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _abandon_if_expired(request: "Request") -> None:
    """A confirmation the bank refused as expired is a request nobody confirmed: the platform must fail it."""
    if request.answer == EXPIRED:
        request.intent, request.answer = ABANDON, UNKNOWN

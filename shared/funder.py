"""Open and fund the local stack's funder: the depository account lending disburses from (SPEC 10).

Usage: ``python -m shared.funder [--state deploy/keys/funder.json] [--output deploy/keys/funder_user_nos]``.
Everything goes through the platform's own flows, as a user would: user-center registers the funder
and opens its depository account through the agent (confirmed at the bank sandbox), then recharges,
each confirmed at the sandbox, until its confirmed recharges reach ``--amount`` (default
¥10,000,000.00), in steps of at most user-center's ``MAX_AMOUNT`` (¥1,000,000.00), from a card the sandbox
fills with ``SANDBOX_CARD_BALANCE`` (the local stack sets it to that amount). It waits until the
ledger's balance equals the bank's, then writes the funder's userNo to ``--output``, which lending reads
(FUNDER_USER_NOS_FILE). Run again, it logs in as the same funder (``--state`` holds its mobile and
passwords, mode 0600) and adds only what is missing: one funder, funded once. For the local stack and
the sandbox only; nothing here is a service's code, and it calls the services over HTTP only.

URLs from the environment: USER_CENTER_URL, BANK_SANDBOX_URL (defaults: the local stack's ports).
"""
import argparse
import base64
import fcntl
import json
import os
import secrets
import sys
import time
from decimal import Decimal

import requests

from shared.contract import USER_NO
from shared.errors import AppError
from shared.money import format_fen, parse_yuan

DEFAULT_AMOUNT = "10000000.00"
STEP_FEN = 100_000_000  # user-center's default MAX_AMOUNT, ¥1,000,000.00, per recharge
PENDING, SUCCEEDED = 0, 1
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
TIMEOUT = 10


class FunderError(Exception):
    """A step of the platform refused or did not finish in time; the message says which."""


def id_number(first17: str) -> str:
    """An 18-character ID number with its GB 11643 check digit."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def new_identity() -> dict:
    """A fresh funder: mobile, login and bank passwords (random), name and ID number."""
    return {"mobile": "19" + digits(9), "password": secrets.token_urlsafe(18), "bankPassword": digits(6),
            "fullname": "平台资金方", "idNumber": id_number("11010119800101" + digits(3))}


def balance_fen(text: str) -> int:
    """A balance in yuan (``"0.00"`` included) as fen."""
    return 0 if Decimal(text) == 0 else parse_yuan(text, "balance", max_fen=10**15)


class Funder:
    """The funder as a user of the platform: user-center's API, and the bank sandbox's confirmations."""

    def __init__(self, user_center: str, bank: str, identity: dict, callback_url: str):
        self.uc, self.bank, self.identity, self.callback_url = user_center.rstrip("/"), bank.rstrip("/"), identity, \
            callback_url
        self.http = requests.Session()

    def _ok(self, response: requests.Response, what: str) -> dict:
        if response.status_code not in (200, 201):
            raise FunderError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def sign_in(self) -> None:
        """Register (once) and log in."""
        credentials = {"mobile": self.identity["mobile"], "password": self.identity["password"]}
        registered = self.http.post(f"{self.uc}/consumers", json=credentials, timeout=TIMEOUT)
        if registered.status_code not in (201, 409):
            self._ok(registered, "register")
        token = self._ok(self.http.post(f"{self.uc}/tokens", json=credentials, timeout=TIMEOUT), "log in")
        self.http.headers["Authorization"] = f"Bearer {token['result']['access_token']}"

    def profile(self) -> dict:
        return self._ok(self.http.get(f"{self.uc}/my/consumers", timeout=TIMEOUT), "profile")["result"]

    def confirm_at_bank(self, gateway: dict) -> None:
        """Confirm a signed gateway request at the bank sandbox, as the user would on its page."""
        self._ok(self.http.post(f"{self.bank}/sandbox/confirm", timeout=TIMEOUT, json={
            "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
            "password": self.identity["bankPassword"], "outcome": "success"}), "confirm at the bank")

    def open_account(self, wait: float) -> str:
        """The funder's userNo, its depository account opened (through the agent and the bank) if it is not."""
        if self.profile()["depositoryStatus"] != "OPENED":
            gateway = self._ok(self.http.post(f"{self.uc}/my/consumers", timeout=TIMEOUT, json={
                "fullname": self.identity["fullname"], "idNumber": self.identity["idNumber"], "bankCode": "ICBC",
                "cardNumber": "6222020200" + self.identity["mobile"][-9:], "mobile": self.identity["mobile"],
                "role": "I", "callbackUrl": self.callback_url}), "open the account")["result"]
            self.confirm_at_bank(gateway)
            until(lambda: self.profile()["depositoryStatus"] == "OPENED", wait, "the account to be opened")
        return self.profile()["userNo"]

    def recharges(self) -> list[dict]:
        records, page = [], 1
        while True:
            answer = self._ok(self.http.get(f"{self.uc}/my/recharge-records", timeout=TIMEOUT,
                                            params={"page": page, "size": 100}), "recharge records")["result"]
            records += answer["records"]
            if len(records) >= answer["total"] or not answer["records"]:
                return records
            page += 1

    def funded_fen(self, wait: float) -> int:
        """What confirmed recharges brought in. Recharges still pending get ``wait`` seconds to settle (a
        confirmed one's notification is on its way); one still pending then was never confirmed and never
        moves money."""
        deadline = time.monotonic() + wait
        while True:
            records = self.recharges()
            if time.monotonic() >= deadline or all(r["callbackStatus"] != PENDING for r in records):
                return sum(parse_yuan(r["amount"]) for r in records if r["callbackStatus"] == SUCCEEDED)
            time.sleep(0.5)

    def recharge(self, fen: int, wait: float) -> None:
        """One recharge of ``fen``, confirmed at the bank, waited for until user-center has it as succeeded."""
        gateway = self._ok(self.http.post(f"{self.uc}/my/recharge-records", timeout=TIMEOUT, json={
            "amount": format_fen(fen), "callbackUrl": self.callback_url}), "recharge")["result"]
        self.confirm_at_bank(gateway)
        request_no = json.loads(base64.b64decode(gateway["reqData"], validate=True))["requestNo"]

        def credited() -> bool:
            record = self._ok(self.http.get(f"{self.uc}/my/recharge-records/{request_no}", timeout=TIMEOUT),
                              "recharge record")["result"]
            if record["callbackStatus"] not in (PENDING, SUCCEEDED):
                raise FunderError(f"recharge {request_no} of {format_fen(fen)} failed at the bank: is the card's "
                                  "balance (the sandbox's SANDBOX_CARD_BALANCE) below the funder's amount?")
            return record["callbackStatus"] == SUCCEEDED
        until(credited, wait, f"recharge {request_no} to be credited")

    def balances(self, user_no: str) -> tuple[int, int]:
        """(ledger balance as user-center shows it, the bank's available balance), in fen."""
        ledger = self._ok(self.http.get(f"{self.uc}/my/balances", timeout=TIMEOUT), "balance")["result"]["balance"]
        bank = self._ok(self.http.get(f"{self.bank}/balance-details/{user_no}", timeout=TIMEOUT), "bank balance")
        return balance_fen(ledger), balance_fen(bank["balance"])


def until(check, wait: float, what: str) -> None:
    """Poll ``check`` until it is true; :class:`FunderError` after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise FunderError(f"gave up waiting for {what} after {wait:.0f}s")
        time.sleep(0.3)


def wait_healthy(urls: list[str], wait: float) -> None:
    """Wait until every service answers /healthz (``make run`` starts this next to the stack)."""
    def healthy(url: str) -> bool:
        try:
            return requests.get(f"{url.rstrip('/')}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    until(lambda: all(healthy(url) for url in urls), wait, "the services to answer /healthz")


IDENTITY_FIELDS = {"mobile", "password", "bankPassword", "fullname", "idNumber"}


def load_identity(path: str) -> dict:
    """The funder of an earlier run, or a new one saved to ``path`` (0600) before it is used."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            try:
                identity = json.load(handle)
            except ValueError:
                identity = None
        if not isinstance(identity, dict) or not IDENTITY_FIELDS <= set(identity):
            raise FunderError(f"{path} is not a funder's state; move it away to open a new funder")
        return identity
    identity = new_identity()
    write_private(path, json.dumps(identity, ensure_ascii=False) + "\n")
    return identity


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def fund(user_center: str, bank: str, state: str, output: str, amount_fen: int, wait: float,
         callback_url: str | None = None) -> tuple[str, int]:
    """Open and fund the funder; returns (userNo, its bank balance in fen) once the ledger agrees. One run at a
    time per state file (an exclusive lock beside it): two at once would both add what is missing."""
    os.makedirs(os.path.dirname(os.path.abspath(state)), exist_ok=True)
    with open(f"{state}.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fund(user_center, bank, state, output, amount_fen, wait, callback_url)


def _fund(user_center: str, bank: str, state: str, output: str, amount_fen: int, wait: float,
          callback_url: str | None) -> tuple[str, int]:
    funder = Funder(user_center, bank, load_identity(state), callback_url or f"{user_center.rstrip('/')}/#/callback")
    funder.sign_in()
    user_no = funder.open_account(wait)
    if not USER_NO.fullmatch(user_no):
        raise FunderError(f"user-center answered a malformed userNo {user_no[:40]!r}")
    missing = amount_fen - funder.funded_fen(wait)
    while missing > 0:
        step = min(missing, STEP_FEN)
        funder.recharge(step, wait)
        missing -= step
    until(lambda: len(set(funder.balances(user_no))) == 1, wait, "the ledger to equal the bank")
    write_private(output, user_no + "\n")
    return user_no, funder.balances(user_no)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.funder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", default="deploy/keys/funder.json", help="the funder's mobile and passwords")
    parser.add_argument("--output", default="deploy/keys/funder_user_nos", help="where its userNo is written")
    parser.add_argument("--amount", default=DEFAULT_AMOUNT, help="yuan its confirmed recharges add up to")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the services and each step")
    parser.add_argument("--callback-url", help="where the bank sends the browser back (default: user-center's)")
    args = parser.parse_args(argv)
    user_center = os.environ.get("USER_CENTER_URL", "http://127.0.0.1:8001")
    bank = os.environ.get("BANK_SANDBOX_URL", "http://127.0.0.1:8005")
    try:
        amount_fen = parse_yuan(args.amount, "--amount", max_fen=10**15)
        wait_healthy([user_center, bank], args.wait)
        user_no, balance = fund(user_center, bank, args.state, args.output, amount_fen, args.wait, args.callback_url)
    except (FunderError, AppError, ValueError, requests.RequestException) as exc:
        print(f"funder: {exc}", file=sys.stderr)
        return 1
    print(f"  funder            {user_no}  ¥{Decimal(balance) / 100:,.2f} at the bank and in the ledger "
          f"({args.output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

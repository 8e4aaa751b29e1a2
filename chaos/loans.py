"""The campaign's loans: borrowers who take a loan through lending's partner API, open their depository
account through the one-time link, repay a period from a recharge and settle early, all while the faults
fly; and what the verdict checks of them afterwards.

A borrower's steps are idempotent as the partner's are (the orderNo, the card, the confirmation, the
repayNo), so a step that failed transiently is asked again as it stands. The verdict: every loan
disbursed and repaid, every transaction call final and agreeing between lending, the agent and the bank,
every lending posting in the ledger exactly once, bank = ledger (and nothing frozen) for the funder and
every borrower, no lending anomaly or refused posting, and the bank's totals conserved.
"""
import random
import time
import uuid
from datetime import date, timedelta

from shared.contract import TRANSACTION_SERVICES
from shared.funder import id_number as with_check_digit
from shared.partner_envelope import seal
from tests.support.link_page import handoff_of

from chaos.workload import BANK_PASSWORD, ApiError, Http, Journal

LOAN, REPAY, SETTLE = "LOAN", "REPAY", "SETTLE"
LOAN_FEN, TERM = 1_000_000, 6
TOP_UP = "400.00"  # the service fee and a period's interest, which the loan itself does not cover
WAIT = 240.0  # how long a borrower waits for one step of lending (faults included)


def id_number(rng: random.Random) -> str:
    """A valid ID number (GB 11643) of someone about 30: the credit engine approves them."""
    born = date.today() - timedelta(days=365 * 30 + rng.randint(0, 3000))
    return with_check_digit(f"110105{born:%Y%m%d}{rng.randint(0, 999):03d}")


class Borrower:
    """One loan, from the partner's push to early settlement; its steps are the actor's operations."""

    def __init__(self, http: Http, urls: dict, journal: Journal, rng: random.Random, secret: str, callback_url: str):
        self.http, self.urls, self.journal, self.rng, self.secret = http, urls, journal, rng, secret
        self.callback_url = callback_url
        self.order_no = "CX" + uuid.uuid4().hex[:20].upper()
        self.mobile = "15" + f"{rng.randint(0, 10**9 - 1):09d}"
        self.id_number = id_number(rng)
        self.user_no = ""
        self.headers: dict = {}
        self.operations = [LOAN, REPAY, SETTLE]
        self.repaid: list[str] = []

    # -- the partner's calls -------------------------------------------------------------------
    def partner(self, name: str, biz: dict) -> dict:
        """A signed partner call (a new timestamp on each attempt); its ``data``."""
        deadline = time.monotonic() + self.http.patience
        while True:
            envelope = seal(biz, "rongshu", self.secret, int(time.time() * 1000))
            answer = self.http.call("POST", f"{self.urls['lending']}/rongshu/{name}", json=envelope)
            if answer.status_code == 200:
                return answer.json().get("data") or {}
            if time.monotonic() > deadline:
                raise ApiError(f"{name} {self.order_no}: {answer.status_code} {answer.text[:200]}")
            time.sleep(0.5)  # e.g. 409 while a state lending has not reached yet

    def until(self, name: str, biz: dict, done, what: str) -> dict:
        deadline = time.monotonic() + WAIT
        while True:
            data = self.partner(name, biz)
            if done(data):
                return data
            if time.monotonic() > deadline:
                raise ApiError(f"{self.order_no}: no {what} within {WAIT:.0f}s (last {data})")
            time.sleep(0.5)

    # -- operations ----------------------------------------------------------------------------
    def run_next(self) -> bool:
        step = self.operations.pop(0)
        if step == LOAN:
            self.take_loan()
        else:
            self.repay([1] if step == REPAY else "all")
        return True

    def take_loan(self) -> None:
        order = {"orderNo": self.order_no, "loanAmount": LOAN_FEN, "loanTerm": TERM, "name": "赵六",
                 "mobile": self.mobile, "idNumber": self.id_number}
        self.partner("order/push", order)
        self.until("audit/result", {"orderNo": self.order_no}, lambda d: d.get("status") == 6001, "approval")
        self.partner("card/bind", {"orderNo": self.order_no, "bankCode": "ICBC", "mobile": self.mobile,
                                   "cardNumber": "6222020200" + self.mobile[2:]})
        confirmed = self.partner("loan/confirm", {"orderNo": self.order_no})
        while confirmed["status"] == "OPEN_ACCOUNT":
            self.open_account(confirmed["openAccountUrl"])
            confirmed = self.partner("loan/confirm", {"orderNo": self.order_no})
        self.journal.count("loans_confirmed")
        self.until("loan/result", {"orderNo": self.order_no}, lambda d: d.get("status") == 7001, "disbursement")
        self.journal.count("loans_disbursed")

    def open_account(self, url: str) -> None:
        """The one-time link signs the borrower in and hands over the bank's account-opening request,
        confirmed at the bank; waits until user-center knows the account is open."""
        used = self.http.call("POST", url, ok=(200, 410))
        if used.status_code == 410:  # the link was used by an attempt whose answer got lost: ask for another
            return
        handoff = handoff_of(used.text)
        if not handoff:
            raise ApiError(f"{self.order_no}: the link's page handed nothing over ({used.status_code})")
        self.headers = {"Authorization": f"Bearer {handoff['token']}"}
        if handoff.get("req-data"):
            self.confirm_at_bank(handoff["platform-no"], handoff["req-data"], handoff["signature"],
                                 "account opening")
        deadline = time.monotonic() + WAIT
        while (profile := self.profile())["depositoryStatus"] != "OPENED":
            if time.monotonic() > deadline:
                raise ApiError(f"{self.order_no}: the borrower's account was not opened within {WAIT:.0f}s")
            time.sleep(0.3)
        self.user_no = profile["userNo"]

    def profile(self) -> dict:
        return self.http.call("GET", f"{self.urls['user_center']}/my/consumers", headers=self.headers).json()["result"]

    def top_up(self) -> None:
        """A recharge through user-center, confirmed at the bank (the verdict checks it with user-center's
        records, as every recharge; it is counted apart from the users' recharges)."""
        answer = self.http.call("POST", f"{self.urls['user_center']}/my/recharge-records", headers=self.headers,
                                json={"amount": TOP_UP, "callbackUrl": self.callback_url})
        if answer.status_code != 200:
            raise ApiError(f"top-up: {answer.status_code} {answer.text[:200]}")
        gateway = answer.json()["result"]
        self.confirm_at_bank(gateway["platformNo"], gateway["reqData"], gateway["signature"], "top-up")
        self.journal.count("loan_top_ups")

    def confirm_at_bank(self, platform_no: str, req_data: str, signature: str, what: str) -> None:
        """The borrower confirms a gateway request on the bank's page (409: an earlier try went through)."""
        answer = self.http.call("POST", f"{self.urls['bank_sandbox']}/sandbox/confirm", ok=(200, 409), json={
            "platformNo": platform_no, "reqData": req_data, "signature": signature, "password": BANK_PASSWORD})
        if answer.status_code not in (200, 409):
            raise ApiError(f"{what} at the bank: {answer.status_code} {answer.text[:200]}")

    def repay(self, periods) -> None:
        if periods != "all":
            self.top_up()
        trial = self.partner("repay/trial", {"orderNo": self.order_no, "periods": periods})
        repay_no = "CR" + uuid.uuid4().hex[:20].upper()
        answer = self.partner("repay", {"orderNo": self.order_no, "repayNo": repay_no, "periods": periods,
                                        "amount": trial["amount"]})
        if answer["status"] == "FAILED":
            raise ApiError(f"{self.order_no}: repayment refused: {answer}")
        self.until("repay/result", {"repayNo": repay_no}, lambda d: d.get("status") in ("SUCCESS", "FAILED"),
                   "repayment result")
        self.repaid.append(repay_no)
        self.journal.count("repayments_settled")


def lending_backlog(query, db) -> dict:
    """What lending still has on its way: calls without a final result, postings not posted, callbacks
    not acknowledged, messages not published, borrows and repayments not finished."""
    def one(sql: str) -> int:
        return query(db("lending"), sql)[0]["n"]

    return {
        "lending_calls_pending": one("select count(*) as n from depository_calls where status = 0"),
        "lending_postings_pending": one("select count(*) as n from ledger_postings where status = 0"),
        "lending_callbacks_pending": one("select count(*) as n from partner_callbacks where status = 0"),
        "lending_outbox_unsent": one("select count(*) as n from outbox where sent_at is null"),
        "lending_borrows_open": one("select count(*) as n from borrows where status not in (27, 30, 40, 41)"),
        "lending_repayments_open": one("select count(*) as n from repayments where status = 'PROCESSING'"),
    }


def check_loans(verdict, query, db, bank_books: dict, borrowers: list, balances, funder: str) -> int:
    """The loans' part of the verdict (``balances(userNo)`` = (bank available, bank frozen, ledger), fen);
    answers the commissions lending had the bank pay into the platform's account (fees and penalties)."""
    for borrower in borrowers:
        if borrower.operations or len(borrower.repaid) != 2:
            verdict.violation(f"loan {borrower.order_no}: steps left {borrower.operations}, repaid {borrower.repaid}")
    borrows = {row["order_no"]: row["status"] for row in query(db("lending"), "select order_no, status from borrows")}
    for borrower in borrowers:
        if borrows.get(borrower.order_no) != 40:
            verdict.violation(f"loan {borrower.order_no}: borrow status {borrows.get(borrower.order_no)}, not 40")
    calls = {row["request_no"]: row for row in query(db("lending"), "select request_no, service, status from"
                                                                    " depository_calls")}
    agent = {row["request_no"]: row["request_status"] for row in query(
        db("depository_agent"), "select request_no, request_status from depository_record where request_type = any(%s)",
        list(TRANSACTION_SERVICES))}
    booked = {number: row for number, row in bank_books.items() if row["service_name"] in TRANSACTION_SERVICES}
    for number in set(calls) | set(agent) | set(booked):
        mine, theirs, bank = calls.get(number), agent.get(number), booked.get(number)
        truth = bank["status"] if bank else 2
        if mine is None:
            verdict.violation(f"{number}: a transaction call lending never made")
        elif mine["status"] != truth or (theirs is not None and theirs != truth):
            verdict.violation(f"{number}: {mine['service']} lending {mine['status']}, agent {theirs}, bank {truth}")
    ledger = {(row["trade_no"], row["change_type"], row["eid"]): row for row in query(
        db("beanpay_ledger"), "select r.trade_no, r.change_type, a.eid, count(*) as count, sum(r.amount) as amount"
                              " from account_record r join account a using (account_id) group by 1, 2, 3")}
    for row in query(db("lending"), "select op, eid, trade_no, amount, status from ledger_postings"):
        entry = ledger.get((row["trade_no"], {"add": 1, "deduct": 2, "refund": 3}[row["op"]], row["eid"]))
        if row["status"] != 1 or entry is None or entry["count"] != 1 or abs(entry["amount"]) != row["amount"]:
            verdict.violation(f"{row['trade_no']}: lending's {row['op']} of {row['amount']} to {row['eid']} is"
                              f" {entry} in the ledger (lending status {row['status']})")
    anomalies = query(db("lending"), "select kind, reference, detail from anomalies")
    for row in anomalies:
        verdict.violation(f"lending anomaly {row['kind']} {row['reference']}: {row['detail']}")
    mismatched = 0
    for user_no in [funder, *(borrower.user_no for borrower in borrowers)]:
        available, frozen, posted = balances(user_no)
        if (available, frozen) != (posted, 0):
            mismatched += 1
            verdict.violation(f"{user_no}: bank available {available}, frozen {frozen}; ledger {posted}")
    verdict.figures.update({"loans": len(borrowers), "loans_repaid": sum(borrows.get(b.order_no) == 40
                                                                          for b in borrowers),
                            "transaction_calls_checked": len(calls), "lending_anomalies": len(anomalies),
                            "lending_balances_mismatched": mismatched})
    # the commissions the bank booked for lending's confirmations (its statement lines, one amount a request)
    return sum(int(row["commission"]) for row in query(
        db("bank_sandbox"), "select request_no, max(commission) as commission from bank_transactions"
                            " where service_name in ('CONFIRM_LOAN', 'CONFIRM_REPAYMENT') group by request_no"))


def lending_trade_nos(query, db) -> set:
    """The trade numbers of lending's postings: ledger records these explain (checked by check_loans)."""
    return {row["trade_no"] for row in query(db("lending"), "select trade_no from ledger_postings")}


def check_totals(verdict, before: dict, after: dict, new_cards: int, card_fen: int) -> None:
    """The bank's money only moves: its total grows only by new users' cards, its parts add up to it, and
    nothing stays frozen once everything settled."""
    if after["total"] != before["total"] + new_cards * card_fen:
        verdict.violation(f"bank totals: {before['total']} -> {after['total']} with {new_cards} new cards of"
                          f" {card_fen}")
    if sum(after[key] for key in ("cards", "available", "frozen", "platform")) != after["total"]:
        verdict.violation(f"bank totals do not add up: {after}")
    if after["frozen"]:
        verdict.violation(f"{after['frozen']} fen still frozen at the bank")
    verdict.figures.update({"bank_total_before": before["total"], "bank_total_after": after["total"]})

"""After the traffic: wait until the platform has settled, then prove from its databases and APIs that
nothing was lost or applied twice.

The bank's books are the truth of what happened to the money (``bank_requests`` of the sandbox, and
its Huifu orders). For every request:

- lost: the bank moved money (a successful recharge or netsave) that the ledger never credited, or a
  withdraw that did not happen at the bank whose hold the ledger never released;
- doubled: a posting applied more than once, a credit for money the bank never moved, a refund of a
  withdraw the bank paid out, or any posting the campaign cannot explain.

A withdraw the bank paid credits its commission to the platform's wallet (eid = the platformNo,
trade_no = its requestNo) exactly once: never is lost, twice is doubled; a failed one never does.

Besides, every request must be final in user-center and in the depository-agent with the bank's
outcome, and for every user the bank, the ledger and user-center's ``/my/balances`` must show the
same balance, equal to the campaign's own expectation.
"""
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pika.exceptions
import psycopg
import redis
import requests
from psycopg.rows import dict_row

from shared import messaging
from shared.messaging import GATEWAY_NOTIFY_DLQ, GATEWAY_NOTIFY_QUEUE

from chaos import loans
from chaos.environment import Environment
from chaos.workload import (ABANDON, FAIL, NETSAVE, RECHARGE, SUCCESS, UNKNOWN, WITHDRAW, Journal, Traffic,
                            fen_of)

ADD, DEDUCT, REFUND = 1, 2, 3


@dataclass
class Verdict:
    """The outcome of the verification: counted losses and doubles, and every violation in words."""

    lost: list = field(default_factory=list)
    doubled: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def lose(self, number: str, text: str) -> None:
        self.lost.append(number)
        self.violation(f"{number}: LOST: {text}")

    def double(self, number: str, text: str) -> None:
        self.doubled.append(number)
        self.violation(f"{number}: DOUBLED: {text}")

    def violation(self, text: str) -> None:
        if len(self.violations) < 200:
            self.violations.append(text)
        self.figures["violations_total"] = self.figures.get("violations_total", 0) + 1

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.violations)


def _query(url: str, sql: str, *args) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, args).fetchall()


def _scalar(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


# -- settling --------------------------------------------------------------------------------
def backlog(env: Environment) -> dict:
    """What is still on its way: pending records, unsent outbox rows, undelivered bank notifications,
    queued messages, uncredited netsaves. All zero once the platform has settled."""
    db = env.infra.database_url
    left = {
        "user_center_pending": _scalar(db("user_center"),
                                       "select (select count(*) from recharge_record where callback_status = 0)"
                                       " + (select count(*) from withdraw_record where callback_status = 0)"
                                       " + (select count(*) from depository_register where callback_status = 0)"),
        "agent_pending": _scalar(db("depository_agent"), "select count(*) from depository_record where request_status = 0"),
        "agent_outbox_unsent": _scalar(db("depository_agent"), "select count(*) from outbox where sent_at is null"),
        "bank_undelivered": _scalar(db("bank_sandbox"),
                                    "select count(*) from deliveries where not delivered or duplicates_left > 0"),
        "netsaves_open": _scalar(db("bank_callback"), "select count(*) from bank_netsave where not done and not deleted"),
    }
    left.update(loans.lending_backlog(_query, db))
    left.update(queue_depths(env))
    return left


def queue_depths(env: Environment) -> dict:
    """Ready messages in user-center's queue and its DLQ (-1 when the broker cannot be asked)."""
    try:
        depths = messaging.queue_depths(env.infra.amqp_url, "chaos-verify")
    except pika.exceptions.AMQPError:
        return {"queue_ready": -1, "dlq_ready": -1}
    return {"queue_ready": depths[GATEWAY_NOTIFY_QUEUE], "dlq_ready": depths[GATEWAY_NOTIFY_DLQ]}


def wait_until_settled(env: Environment, timeout: float, stall: float) -> tuple[bool, float, dict, int]:
    """Poll the backlog until all of it is zero; ``(settled, seconds, last backlog, DLQ replays)``.

    Gives up after ``timeout`` seconds, or once the backlog has not moved for ``stall`` seconds
    (something is stuck that no retry or compensation will settle). A message parked in the DLQ is
    replayed with the operator command (``user_center dlq replay --all``), as the runbook says; the
    number of replays is reported.
    """
    started = time.monotonic()
    replays = 0
    left: dict = {}
    changed = started
    while time.monotonic() - started < timeout and time.monotonic() - changed < stall:
        previous, left = left, backlog(env)
        if left != previous:
            changed = time.monotonic()
        if left["dlq_ready"] > 0 and left["queue_ready"] == 0:
            replays += left["dlq_ready"]
            env.run_command("user_center", "dlq", "replay", "--all")
            continue
        if all(value == 0 for value in left.values()):
            return True, time.monotonic() - started, left, replays
        time.sleep(0.5)
    return False, time.monotonic() - started, left, replays


# -- verification ----------------------------------------------------------------------------
def verify(env: Environment, traffic: Traffic) -> Verdict:
    """Check every request and every balance; the verdict lists what is wrong."""
    verdict = Verdict()
    platform_no = traffic.options.platform_no
    db = env.infra.database_url
    bank = {row["request_no"]: row for row in _query(
        db("bank_sandbox"), "select request_no, service_name, user_no, amount, commission, status from bank_requests")}
    agent = {row["request_no"]: row for row in _query(
        db("depository_agent"), "select request_no, request_type, request_status, amount, commission, result_source"
                                " from depository_record")}
    center = {}
    for kind, table in ((RECHARGE, "recharge_record"), (WITHDRAW, "withdraw_record")):
        commission = "commission" if kind == WITHDRAW else "0 as commission"
        for row in _query(db("user_center"), f"select trim(request_no) as request_no, trim(user_no) as user_no,"
                                             f" amount, {commission}, callback_status from {table}"):
            center[row["request_no"]] = {**row, "kind": kind}
    postings = _postings(db("beanpay_ledger"))
    orders = {row["ord_id"]: row for row in _query(
        db("bank_sandbox"), "select o.ord_id, c.usr_id, o.amount, o.resp_code from huifu_orders o"
                            " join huifu_customers c using (usr_cust_id) where o.cmd_id = 'NetSave'")}

    _check_journal_against_bank(verdict, traffic.journal, bank, orders)
    _check_wanxin(verdict, center, agent, bank, postings, platform_no)
    _check_huifu(verdict, env, orders, postings)
    _check_unexplained_postings(verdict, postings, center, orders, loans.lending_trade_nos(_query, db))
    _check_platform_records(verdict, env, bank)
    lent = loans.check_loans(verdict, _query, db, bank, traffic.borrowers, lambda user_no: _bank_and_ledger(
        env, user_no), env.funder)
    _check_balances(verdict, env, traffic, platform_no, lent)
    loans.check_totals(verdict, traffic.bank_totals, bank_totals(env), len(traffic.borrowers), env.card_fen)
    _check_cache(verdict, env)
    verdict.figures.update({"lost": len(verdict.lost), "doubled": len(verdict.doubled),
                            "requests_checked": len(center) + len(orders)})
    return verdict


def _postings(ledger_url: str) -> dict:
    """Ledger records by (trade_no, change_type): ``{"count", "amount", "eids"}``."""
    postings: dict = {}
    for row in _query(ledger_url, "select r.trade_no, r.change_type, a.eid, count(*) as n, sum(r.amount) as amount"
                                  " from account_record r join account a using (account_id)"
                                  " group by r.trade_no, r.change_type, a.eid"):
        entry = postings.setdefault((row["trade_no"], row["change_type"]), {"count": 0, "amount": 0, "eids": set()})
        entry["count"] += row["n"]
        entry["amount"] += int(row["amount"])
        entry["eids"].add(row["eid"])
    return postings


def _check_journal_against_bank(verdict: Verdict, journal: Journal, bank: dict, orders: dict) -> None:
    """What the bank answered the campaign is what its books say (the journal is a sound expectation)."""
    for request in journal.requests:
        if request.kind == NETSAVE:
            order = orders.get(request.number)
            truth = None if order is None else SUCCESS if order["resp_code"] == "000" else FAIL
        else:
            row = bank.get(request.number)
            truth = None if row is None else {0: "pending", 1: SUCCESS, 2: FAIL}[row["status"]]
        if request.intent == ABANDON:
            if truth is not None:
                verdict.violation(f"{request.number}: abandoned, yet the bank has it ({truth})")
        elif truth is None or truth == "pending":
            verdict.violation(f"{request.number}: confirmed at the bank, but the bank shows {truth}")
        elif request.answer != UNKNOWN and request.answer != truth:
            verdict.violation(f"{request.number}: the bank answered {request.answer} but its books say {truth}")
        request.truth = truth


def _check_wanxin(verdict: Verdict, center: dict, agent: dict, bank: dict, postings: dict, platform_no: str) -> None:
    """user-center's recharges and withdraws against the agent, the bank and the ledger (lending's
    transaction services are checked by chaos.loans)."""
    money = {n for n, row in agent.items() if row["request_type"] in (RECHARGE, WITHDRAW)}
    money |= {n for n, row in bank.items() if row["service_name"] in (RECHARGE, WITHDRAW)}
    for number in set(center) | money:
        record, remote, booked = center.get(number), agent.get(number), bank.get(number)
        if record is None:
            verdict.violation(f"{number}: known to the agent or the bank but not to user-center")
            continue
        truth = booked["status"] if booked else 2  # unknown at the bank: must have failed (expired)
        if record["callback_status"] == 0 and remote is None and booked is None:
            verdict.violation(f"{number}: {record['kind']} pending in user-center for ever: neither the agent nor"
                              f" the bank knows it, so nothing will settle it")
            continue
        if truth == 0:
            verdict.violation(f"{number}: still pending at the bank")
            continue
        if record["callback_status"] != truth:
            verdict.violation(f"{number}: user-center callback_status {record['callback_status']}, bank {truth}")
        if remote is not None and remote["request_status"] != truth:
            verdict.violation(f"{number}: agent request_status {remote['request_status']}, bank {truth}")
        if remote is None and booked is not None:
            verdict.violation(f"{number}: the bank has it but the agent has no record")
        if booked is not None and (booked["amount"], booked["commission"] or 0) != (record["amount"], record["commission"]):
            verdict.violation(f"{number}: bank amount {booked['amount']}+{booked['commission']} differs from"
                              f" user-center {record['amount']}+{record['commission']}")
        if record["kind"] == RECHARGE:
            _check_recharge(verdict, number, record, truth, postings)
        else:
            _check_withdraw(verdict, number, record, truth, remote, postings)
            _check_commission(verdict, number, record, truth, postings, platform_no)


def _check_recharge(verdict: Verdict, number: str, record: dict, truth: int, postings: dict) -> None:
    _check_credit(verdict, number, "recharge", record["amount"], record["user_no"], truth == 1,
                  postings.get((number, ADD)))


def _check_credit(verdict: Verdict, number: str, what: str, amount: int, owner: str, succeeded: bool,
                  add: dict | None) -> None:
    """A credit the bank made (recharge, netsave) is in the ledger exactly once; a failed one never."""
    if not succeeded:
        if add is not None:
            verdict.double(number, f"{what} failed at the bank but credited {add['amount']} fen")
        return
    if add is None:
        verdict.lose(number, f"{what} of {amount} fen for {owner}, the ledger never credited it")
    elif add["count"] > 1:
        verdict.double(number, f"{what} credited {add['count']} times")
    elif add["amount"] != amount or add["eids"] != {owner}:
        verdict.violation(f"{number}: credited {add['amount']} to {add['eids']}, expected {amount} to {owner}")


def _check_withdraw(verdict: Verdict, number: str, record: dict, truth: int, remote, postings: dict) -> None:
    held = record["amount"] + record["commission"]
    deduct, refund = postings.get((number, DEDUCT)), postings.get((number, REFUND))
    if (deduct and deduct["count"] > 1) or (refund and refund["count"] > 1):
        verdict.double(number, f"withdraw postings {deduct} {refund}")
    if deduct is not None and (deduct["amount"] != -held or deduct["eids"] != {record["user_no"]}):
        verdict.violation(f"{number}: hold of {deduct['amount']} on {deduct['eids']}, expected {-held}")
    if truth == 1:
        if deduct is None:
            verdict.double(number, "withdraw paid by the bank but never debited in the ledger")
        if refund is not None:
            verdict.double(number, "withdraw paid by the bank and its hold refunded too")
        return
    if deduct is not None and refund is None:
        verdict.lose(number, f"withdraw failed ({'at the bank' if remote else 'before the agent'})"
                             f" but its hold of {held} fen was never released")
    if refund is not None and deduct is not None and refund["amount"] != held:
        verdict.violation(f"{number}: refund of {refund['amount']} for a hold of {held}")
    if refund is not None and deduct is None:
        verdict.double(number, "a refund without a hold")


def _check_commission(verdict: Verdict, number: str, record: dict, truth: int, postings: dict,
                      platform_no: str) -> None:
    """A withdraw the bank paid credits its commission to the platform's wallet exactly once (an add
    with its requestNo); a failed one, or one without commission, credits nothing."""
    commission, add = record["commission"], postings.get((number, ADD))
    if truth != 1 or not commission:
        if add is not None:
            reason = "failed at the bank" if truth != 1 else "paid without a commission"
            verdict.double(number, f"withdraw {reason}, yet {add['amount']} fen credited to {sorted(add['eids'])}")
        return
    if add is None:
        verdict.lose(number, f"withdraw paid by the bank, its commission of {commission} fen never credited to"
                             f" the platform's wallet {platform_no}")
    elif add["count"] > 1:
        verdict.double(number, f"commission credited {add['count']} times ({add['amount']} fen to"
                               f" {sorted(add['eids'])})")
    elif add["amount"] != commission or add["eids"] != {platform_no}:
        verdict.violation(f"{number}: commission {add['amount']} fen credited to {sorted(add['eids'])}, expected"
                          f" {commission} to {platform_no}")


def _check_huifu(verdict: Verdict, env: Environment, orders: dict, postings: dict) -> None:
    rows = _query(env.infra.database_url("bank_callback"),
                  "select trim(ord_id) as ord_id, count(*) as n, bool_and(done) as done from bank_netsave"
                  " where not deleted group by 1")
    stored = {row["ord_id"]: row for row in rows}
    for number, order in orders.items():
        add = postings.get((number, ADD))
        row = stored.get(number)
        if row is None:
            verdict.violation(f"{number}: netsave the bank sent is not stored by bank-callback")
        elif row["n"] != 1 or not row["done"]:
            verdict.violation(f"{number}: bank_netsave rows {row['n']}, done {row['done']}")
        _check_credit(verdict, number, "netsave", order["amount"], order["usr_id"], order["resp_code"] == "000", add)


def _check_unexplained_postings(verdict: Verdict, postings: dict, center: dict, orders: dict, lent: set) -> None:
    for (number, change_type), entry in postings.items():
        if number not in center and number not in lent and not (change_type == ADD and number in orders):
            verdict.double(number, f"ledger posting type {change_type} of {entry['amount']} that no request explains")


def _check_platform_records(verdict: Verdict, env: Environment, bank: dict) -> None:
    """Account openings final and agreeing; no anomaly, no open agent exception, nothing dead-lettered."""
    db = env.infra.database_url
    for row in _query(db("user_center"), "select trim(request_no) as request_no, callback_status from depository_register"):
        booked = bank.get(row["request_no"])
        truth = booked["status"] if booked else 2
        if row["callback_status"] != truth:
            verdict.violation(f"{row['request_no']}: account opening {row['callback_status']}, bank {truth}")
    anomalies = _query(db("user_center"), "select reason, request_no, occurrences from gateway_notify_anomaly")
    for row in anomalies:
        verdict.violation(f"user-center anomaly {row['request_no']}: {row['reason']} (x{row['occurrences']})")
    exceptions = _query(db("depository_agent"), "select request_no, kind, reason from depository_exception"
                                                " where resolved_at is null")
    for row in exceptions:
        verdict.violation(f"agent exception {row['kind']} {row['request_no']}: {row['reason']}")
    verdict.figures.update({"anomalies": len(anomalies), "open_agent_exceptions": len(exceptions)})
    verdict.figures["expired_by_compensation"] = _scalar(
        db("depository_agent"), "select count(*) from depository_record where result_source = 'EXPIRED'")
    verdict.figures["settled_by_query"] = _scalar(
        db("depository_agent"), "select count(*) from depository_record where result_source = 'QUERY'")


def _check_balances(verdict: Verdict, env: Environment, traffic: Traffic, platform_no: str, lent: int) -> None:
    """Bank, ledger and user-center agree per user, and equal the sum the campaign expects; the
    platform's wallet holds the commissions of the paid withdraws and those lending's calls paid (``lent``)."""
    expected: dict = defaultdict(int)
    expected[platform_no] = lent
    for request in traffic.journal.requests:
        if request.truth != SUCCESS:
            continue
        if request.kind in (RECHARGE, NETSAVE):
            expected[request.owner] += request.amount
        else:
            expected[request.owner] -= request.amount + request.commission
            expected[platform_no] += request.commission
    headers = {"Authorization": f"Bearer {env.infra.internal_token}"}
    ledger, sandbox = env.stack.url("beanpay_ledger"), env.stack.url("bank_sandbox")
    mismatched = 0
    for user in traffic.users:
        want = expected[user.user_no]
        bank_view = requests.get(f"{sandbox}/balance-details/{user.user_no}", timeout=10).json()["balance"]
        ledger_view = _ledger_balance(ledger, headers, user.user_no)
        center_view = user.balance()
        seen = (fen_of(bank_view), ledger_view, fen_of(center_view))
        if seen != (want, want, want):
            mismatched += 1
            verdict.violation(f"{user.user_no}: balances bank {bank_view}, ledger {ledger_view} fen, user-center"
                              f" {center_view}; expected {want} fen")
    for customer in traffic.customers:
        want = expected[customer.openid]
        got = _ledger_balance(ledger, headers, customer.openid)
        if got != want:
            mismatched += 1
            verdict.violation(f"{customer.openid}: ledger balance {got} fen, expected the netsaves' {want}")
    commissions = _ledger_balance(ledger, headers, platform_no)
    if commissions != expected[platform_no]:
        mismatched += 1
        verdict.violation(f"{platform_no}: platform wallet {commissions} fen, expected the paid withdraws' and"
                          f" lending's commissions {expected[platform_no]}")
    verdict.figures.update({"balances_checked": len(traffic.users) + len(traffic.customers) + 1,
                            "commissions_fen": commissions,
                            "balances_mismatched": mismatched,
                            "money_in_ledger_fen": sum(expected.values())})


def bank_totals(env: Environment) -> dict:
    """The bank sandbox's ``/sandbox/totals`` in fen."""
    answer = requests.get(f"{env.stack.url('bank_sandbox')}/sandbox/totals", timeout=10).json()
    return {key: fen_of(value) for key, value in answer.items()}


def _bank_and_ledger(env: Environment, user_no: str) -> tuple[int, int, int]:
    """(available, frozen) at the bank and the ledger's balance of ``user_no``, in fen."""
    bank = requests.get(f"{env.stack.url('bank_sandbox')}/balance-details/{user_no}", timeout=10).json()
    headers = {"Authorization": f"Bearer {env.infra.internal_token}"}
    return fen_of(bank["balance"]), fen_of(bank["frozen"]), _ledger_balance(env.stack.url("beanpay_ledger"), headers,
                                                                           user_no)


def _ledger_balance(ledger: str, headers: dict, eid: str) -> int:
    answer = requests.get(f"{ledger}/account/balance/query", params={"eid": eid}, headers=headers, timeout=10)
    return answer.json()["balance"] if answer.status_code == 200 else 0


def _check_cache(verdict: Verdict, env: Environment) -> None:
    table = {row["openid"]: row["cust_id"] for row in _query(
        env.infra.database_url("bank_callback"),
        "select rtrim(openid) as openid, rtrim(cust_id) as cust_id from bank_customers where not deleted")}
    cache = redis.Redis.from_url(env.redis.url, decode_responses=True).hgetall(f"{env.infra.redis_prefix}bank-customers")
    if cache != table:
        missing = sorted(set(table) - set(cache))
        verdict.violation(f"Redis bank-customers differs from the table: {len(missing)} missing, "
                          f"{len(set(cache) - set(table))} extra, "
                          f"{sum(1 for k in table if k in cache and cache[k] != table[k])} stale")
    verdict.figures["cache_entries"] = len(cache)


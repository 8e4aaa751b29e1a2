"""Compensation: ask the bank about requests stuck at status 0 and settle them like a notification.

A record still pending after COMPENSATION_AGE_SECONDS is queried at the bank (COMPENSATION_TRIES quick
tries, :func:`shared.backoff.retry_call`).
A final answer is settled through :func:`notifications.settle`. A record is failed without the
bank's result only when both hold: its ``expired`` passed more than COMPENSATION_EXPIRY_GRACE_SECONDS
ago before the bank was asked (after it, the bank refuses the request), and the bank then answered
that it does not know the request (404 with its signed answer: respCode 40004 about this requestNo,
never a bare 404 or silence). The same holds for every service, the transaction services included.
Anything else that goes wrong opens a COMPENSATION_FAILED exception, checked again after
EXCEPTION_POLL_SECONDS (doubling up to EXCEPTION_POLL_MAX_SECONDS, :func:`shared.backoff.backoff`) until it
settles or an operator resolves it.
"""
import logging
from collections import Counter

from psycopg_pool import ConnectionPool

from shared import contract
from shared.backoff import backoff, retry_call
from shared.db import unit_of_work
from shared.errors import AppError, Conflict, NotFound
from shared.logs import bind_request_id
from shared.money import format_fen

from depository_agent.bank_client import BankQuery, BankQueryError
from depository_agent.notifications import EXPIRED as EXPIRED_SOURCE
from depository_agent.notifications import QUERY, SETTLED, result_status, settle
from depository_agent.repository import exceptions, records
from depository_agent.wanxin import WanxinCodec

log = logging.getLogger(__name__)

PENDING = "PENDING"          # the bank knows the request; the user has not confirmed yet
UNKNOWN = "UNKNOWN"          # the bank does not know it; its expired has not passed yet
EXPIRED = "EXPIRED"          # the bank does not know it, and can no longer accept it: failed
ALREADY_FINAL = "ALREADY_FINAL"
EXCEPTION = "EXCEPTION"


def expiry_result(record: dict) -> dict:
    """The failure result published for a request the bank never received and now refuses
    (:data:`shared.contract.EXPIRY_FIELDS`)."""
    result = {"requestNo": record["request_no"], "respCode": contract.EXPIRED_CODE,
              "respMsg": "the bank never received this request", "status": contract.STATUS_FAILURE}
    if record["service_name"] in contract.MONEY_SERVICES:
        result.update(transactionStatus=contract.TRANSACTION_STATUS[contract.STATUS_FAILURE],
                      amount=format_fen(record["amount"]))
    return result


class Compensator:
    """One compensation pass, the exception retries, and an operator's retry, over the same check."""

    def __init__(self, pool: ConnectionPool, codec: WanxinCodec, bank: BankQuery, config: dict):
        self.pool = pool
        self.codec = codec
        self.bank = bank
        self.age = config["COMPENSATION_AGE_SECONDS"]
        self.grace = config["COMPENSATION_EXPIRY_GRACE_SECONDS"]
        self.interval = config["COMPENSATION_INTERVAL_SECONDS"]
        self.batch_size = config["COMPENSATION_BATCH_SIZE"]
        self.tries = max(1, config["COMPENSATION_TRIES"])
        self.try_delay = config["COMPENSATION_TRY_DELAY_MS"] / 1000
        self.exception_delay = config["EXCEPTION_POLL_SECONDS"]
        self.exception_delay_max = max(self.exception_delay, config["EXCEPTION_POLL_MAX_SECONDS"])

    def run_pass(self) -> Counter:
        """Check every due pending record once; return the count of each outcome."""
        with unit_of_work(self.pool) as conn:
            due = records.claim_due(conn, self.age, self.interval, self.batch_size)
        return Counter(self.check(record) for record in due)

    def retry_exceptions(self) -> Counter:
        """Check again the records of COMPENSATION_FAILED exceptions whose retry is due."""
        with unit_of_work(self.pool) as conn:
            due = exceptions.claim_due_retries(conn, self.exception_delay, self.batch_size)
        return Counter(self.check(self._record(row["request_no"])) for row in due)

    def retry(self, exception_id: int) -> str:
        """An operator's retry of one open COMPENSATION_FAILED exception, now."""
        with unit_of_work(self.pool) as conn:
            row = exceptions.get(conn, exception_id)
        if row is None:
            raise NotFound(f"no exception {exception_id}")
        if row["resolved_at"] is not None:
            raise Conflict(f"exception {exception_id} is already resolved")
        if row["kind"] != exceptions.COMPENSATION_FAILED:
            raise Conflict("a conflicting bank result is never applied: investigate, then resolve it")
        return self.check(self._record(row["request_no"]))

    def check(self, record: dict) -> str:
        """Query the bank about one record and settle it when the bank has the answer."""
        bind_request_id(None)
        request_no = record["request_no"]
        try:
            outcome = ALREADY_FINAL if record["request_status"] != 0 else self._settle_from_bank(record)
        except (BankQueryError, AppError) as exc:
            with unit_of_work(self.pool) as conn:
                row = exceptions.open_exception(conn, request_no, exceptions.COMPENSATION_FAILED, str(exc),
                                                {"error": exc.__class__.__name__})
                exceptions.retry_in(conn, row["id"], backoff(row["attempts"], self.exception_delay,
                                                             self.exception_delay_max))
            log.warning("compensation of %s failed (exception %s, attempt %s): %s",
                        request_no, row["id"], row["attempts"], exc)
            return EXCEPTION
        with unit_of_work(self.pool) as conn:
            exceptions.resolve_open(conn, request_no, exceptions.COMPENSATION_FAILED,
                                         f"compensation outcome {outcome}")
        log.info("compensation of %s: %s", request_no, outcome)
        return outcome

    def ask_bank(self, request_no: str) -> tuple[str, dict] | None:
        """The bank's verified answer about ``request_no`` as ``(serviceName, result)``, or None when the
        bank says, signed, that it does not know the request; :class:`BankQueryError` or a 4xx
        :class:`AppError` when the answer cannot be used (unreachable, forged, another platform's, about
        another request, an unsigned "unknown")."""
        known, message = self._query(request_no)
        if not known:
            unknown = self.codec.open_answer(message)
            if (unknown.get("requestNo"), unknown.get("respCode"), unknown.get("status")) != (
                    request_no, contract.RESP_UNKNOWN_REQUEST, contract.STATUS_PENDING):
                raise BankQueryError(f"the bank's 404 does not sign that it does not know {request_no}")
            return None
        payload = self.codec.open(message)
        if payload.get("requestNo") != request_no:
            raise BankQueryError(f"the bank answered about {str(payload.get('requestNo'))[:40]!r}, not {request_no}")
        return message["serviceName"], payload

    def _settle_from_bank(self, record: dict) -> str:
        # The record's expiry was read (by the database's clock) before the bank is asked: an "unknown"
        # received now comes from a bank that already refuses the request.
        expired = record["past_expiry_seconds"] > self.grace
        answer = self.ask_bank(record["request_no"])
        if answer is None:
            if not expired:
                return UNKNOWN
            with unit_of_work(self.pool) as conn:
                settled = settle(conn, record["service_name"], expiry_result(record), EXPIRED_SOURCE)
            return EXPIRED if settled == SETTLED else settled
        service_name, payload = answer
        if result_status(payload) == contract.STATUS_PENDING:
            return PENDING
        with unit_of_work(self.pool) as conn:
            return settle(conn, service_name, payload, QUERY)

    def _query(self, request_no: str) -> tuple[bool, dict]:
        """The bank's answer, asked up to COMPENSATION_TRIES times, COMPENSATION_TRY_DELAY_MS apart."""
        return retry_call(lambda: self.bank.fetch(request_no), self.tries, self.try_delay, self.try_delay,
                          BankQueryError)

    def _record(self, request_no: str) -> dict:
        with unit_of_work(self.pool) as conn:
            return records.get_for_check(conn, request_no)

"""The comparison of one request across the four views, as findings (pure functions, no I/O).

Views of a request: the bank's statement line (present only for a successful money movement
booked that day), the bank's answer to a query (asked only when the statement cannot settle the
question), the agent's ``depository_record``, user-center's record and the ledger's postings
whose ``trade_no`` is the requestNo. A transaction service's request (a freeze, a cancel, a loan, a
repayment) has the first three views only: lending keeps its own books of them.
"""
from dataclasses import dataclass, field

from shared.contract import TRANSACTION_SERVICES
from shared.money import format_fen

# differences the command repairs
NOT_SETTLED = "NOT_SETTLED"                # agent pending, the bank has the final result
NOT_APPLIED = "NOT_APPLIED"                # agent final, user-center still pending
LEDGER_MISSING = "LEDGER_MISSING"          # user-center final, a posting the outcome implies is missing
# differences the command only reports
MISSING_AT_PLATFORM = "MISSING_AT_PLATFORM"
MISSING_AT_BANK = "MISSING_AT_BANK"
MISSING_AT_AGENT = "MISSING_AT_AGENT"
MISSING_AT_USER_CENTER = "MISSING_AT_USER_CENTER"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
OPPOSITE_OUTCOME = "OPPOSITE_OUTCOME"
LEDGER_MISMATCH = "LEDGER_MISMATCH"
UNCHECKED = "UNCHECKED"                    # the bank could not be asked about it
# not differences: listed for the operator, no effect on the exit code
PENDING_AT_BANK = "PENDING_AT_BANK"        # the user has not confirmed at the bank yet
UNKNOWN_AT_BANK = "UNKNOWN_AT_BANK"        # never brought to the bank; compensation expires it
BOOKED_OTHER_DAY = "BOOKED_OTHER_DAY"      # successful at the bank, on another day's statement

SETTLE, REPUBLISH = "SETTLE", "REPUBLISH"
# what a run did about a finding
REPAIRED, REPAIR_FAILED, NOT_REPAIRED, REPORTED, NONE = "REPAIRED", "REPAIR_FAILED", "NOT_REPAIRED", "REPORTED", "NONE"
REPAIRS = {NOT_SETTLED: SETTLE, NOT_APPLIED: REPUBLISH, LEDGER_MISSING: REPUBLISH}
INFO = frozenset({PENDING_AT_BANK, UNKNOWN_AT_BANK, BOOKED_OTHER_DAY})

BANK_UNKNOWN = "unknown"     # bank_status when the bank does not know the request
BANK_UNASKED = "unasked"     # bank_status when the question did not arise
BANK_FAILED = "unavailable"  # bank_status when the query failed
STATUS_NAMES = {0: "pending", 1: "success", 2: "failed"}
ADD, DEDUCT, REFUND = 1, 2, 3
POSTING_NAMES = {ADD: "add", DEDUCT: "deduct", REFUND: "refund"}


@dataclass
class Item:
    """Everything known about one requestNo."""

    request_no: str
    line: dict | None = None           # statement line, amounts in fen
    record: dict | None = None         # the agent's depository_record row
    user_center: dict | None = None    # user-center's record (amounts in fen)
    postings: list = field(default_factory=list)  # ledger records with trade_no == request_no
    bank_status: object = BANK_UNASKED  # 0/1/2 from /service/query, or one of the BANK_* markers

    def _first(self, column: str, field_name: str) -> str:
        """The value from the first view that has the request (agent row, statement, user-center)."""
        view = self.record or self.line or self.user_center or {}
        return view.get(column) or view.get(field_name) or ""

    @property
    def service_name(self) -> str:
        return self._first("service_name", "serviceName")

    @property
    def user_no(self) -> str:
        return self._first("user_no", "userNo")

    @property
    def is_transaction(self) -> bool:
        """A transaction service's request: the bank and the agent only (no user-center record, no posting)."""
        return self.service_name in TRANSACTION_SERVICES

    def needs_bank_query(self) -> bool:
        """The statement cannot tell: the agent has the request pending, or successful but not listed."""
        return self.line is None and self.record is not None and self.record["request_status"] in (0, 1)


@dataclass
class Finding:
    """One difference (or informational note) about a request."""

    category: str
    detail: str
    action: str = NONE  # set by the run: REPAIRED, REPAIR_FAILED, NOT_REPAIRED (--no-repair), REPORTED

    @property
    def is_difference(self) -> bool:
        return self.category not in INFO

    @property
    def repair(self) -> str | None:
        return REPAIRS.get(self.category)


def _money(amount: int, commission: int) -> str:
    return format_fen(amount) + (f"+{format_fen(commission)}" if commission else "")


def describe(item: Item) -> dict[str, str]:
    """Short text of each view, for the report."""
    record, uc = item.record, item.user_center
    bank = "statement " + _money(item.line["amount"], item.line["commission"]) if item.line else ""
    if item.bank_status != BANK_UNASKED:
        bank = ((bank + "; ") if bank else "") + f"query: {STATUS_NAMES.get(item.bank_status, item.bank_status)}"
    return {
        "bank": bank or "not on statement",
        "agent": (f"{STATUS_NAMES[record['request_status']]} {_money(record['amount'], record['commission'] or 0)}"
                  if record else "no record"),
        "user_center": (f"{STATUS_NAMES[uc['callbackStatus']]} {_money(uc['amount'], uc['commission'])}"
                        if uc else "no record"),
        "ledger": "; ".join(f"{POSTING_NAMES.get(posting['change_type'], posting['change_type'])} {posting['amount']}"
                            for posting in item.postings) or "no posting",
    }


def compare(item: Item) -> list[Finding]:
    """The findings about one request; an empty list when every view agrees."""
    record, line, uc = item.record, item.line, item.user_center
    if record is None:
        if line is not None:
            return [Finding(MISSING_AT_PLATFORM, "the bank booked a movement the agent has no record of")]
        if uc is not None and uc["callbackStatus"] != 2:
            return [Finding(MISSING_AT_AGENT, "user-center has a live record the agent never signed")]
        return []  # a user-center request the agent refused, already failed: nothing happened
    if line is not None:
        mismatch = _fields_differ("bank statement", line["serviceName"], line["userNo"], line["amount"],
                                  line["commission"], record)
        if mismatch:
            return [Finding(AMOUNT_MISMATCH, mismatch)]
    bank_finding = _against_bank(item)
    if bank_finding is not None and bank_finding.category not in INFO:
        return [bank_finding]
    findings = [bank_finding] if bank_finding else []
    if item.is_transaction:
        return findings
    platform_finding = _against_user_center_and_ledger(item)
    return findings + ([platform_finding] if platform_finding else [])


def _fields_differ(source: str, service_name: str, user_no: str, amount: int, commission: int,
                   record: dict) -> str | None:
    # A loan's or repayment's line names the borrower, whom its record does not carry.
    if service_name != record["service_name"] or record["user_no"] not in (None, user_no):
        return f"{source} has {service_name} for {user_no}, the agent {record['service_name']} for {record['user_no']}"
    if amount != record["amount"] or commission != (record["commission"] or 0):
        return (f"{source} amount {_money(amount, commission)} differs from the agent's "
                f"{_money(record['amount'], record['commission'] or 0)}")
    return None


def _against_bank(item: Item) -> Finding | None:
    status, bank = item.record["request_status"], 1 if item.line else item.bank_status
    if bank == BANK_FAILED:
        return Finding(UNCHECKED, "the bank could not be asked about this request")
    if status == 0:
        if bank in (1, 2):
            return Finding(NOT_SETTLED, f"the bank reports {STATUS_NAMES[bank]}, the agent is still pending")
        if bank == 0:
            return Finding(PENDING_AT_BANK, "the user has not confirmed at the bank yet")
        return Finding(UNKNOWN_AT_BANK, "the bank never received this request; compensation will expire it")
    if status == 1 and item.line is None:
        if bank == 1:
            return Finding(BOOKED_OTHER_DAY, "successful at the bank, booked on another day's statement")
        if bank == BANK_UNKNOWN:
            return Finding(MISSING_AT_BANK, "the agent recorded a success the bank does not know")
        return Finding(OPPOSITE_OUTCOME, f"the agent recorded success, the bank reports {STATUS_NAMES[bank]}")
    if status == 2 and item.line is not None:
        return Finding(OPPOSITE_OUTCOME, "the bank booked it, the agent recorded a failure")
    return None


def _against_user_center_and_ledger(item: Item) -> Finding | None:
    record, uc = item.record, item.user_center
    if uc is None:
        return Finding(MISSING_AT_USER_CENTER, "user-center has no record of this request")
    mismatch = _fields_differ("user-center", uc["serviceName"], uc["userNo"], uc["amount"], uc["commission"], record)
    if mismatch:
        return Finding(AMOUNT_MISMATCH, mismatch)
    status = record["request_status"]
    if status == 0:
        if uc["callbackStatus"] != 0:
            return Finding(OPPOSITE_OUTCOME, f"user-center is {STATUS_NAMES[uc['callbackStatus']]}, the agent pending")
        return None  # in flight: the ledger holds at most a withdraw's hold
    if uc["callbackStatus"] == 0:
        return Finding(NOT_APPLIED, f"the agent recorded {STATUS_NAMES[status]}, user-center is still pending")
    if uc["callbackStatus"] != status:
        return Finding(OPPOSITE_OUTCOME, f"the agent recorded {STATUS_NAMES[status]}, "
                                         f"user-center {STATUS_NAMES[uc['callbackStatus']]}")
    return ledger_finding(record["service_name"], status, record["amount"], record["commission"] or 0, item.postings)


def ledger_finding(service_name: str, status: int, amount: int, commission: int, postings: list) -> Finding | None:
    """Compare the ledger's postings of a final request with what its outcome implies.

    RECHARGE success: one add of the amount; failure: nothing. WITHDRAW success: the hold (a deduct
    of amount + commission); failure: nothing, or the hold and its refund.
    """
    actual: dict[int, int] = {}
    for posting in postings:
        actual[posting["change_type"]] = actual.get(posting["change_type"], 0) + posting["amount"]
    held = amount + commission
    if service_name == "RECHARGE":
        accepted = [{ADD: amount}] if status == 1 else [{}]
    else:
        accepted = [{DEDUCT: -held}] if status == 1 else [{}, {DEDUCT: -held, REFUND: held}]
    if actual in accepted:
        return None
    expected = accepted[-1]
    if all(expected.get(kind) == value for kind, value in actual.items()):
        missing = ", ".join(POSTING_NAMES[kind] for kind in expected if kind not in actual)
        return Finding(LEDGER_MISSING, f"the ledger lacks the {missing} of this {STATUS_NAMES[status]} request")
    return Finding(LEDGER_MISMATCH, f"ledger postings {actual} do not fit a {STATUS_NAMES[status]} request "
                                    f"(expected {expected or 'none'})")

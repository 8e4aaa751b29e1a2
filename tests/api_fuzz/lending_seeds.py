"""lending and partner-sandbox for fuzzing: both as gunicorn processes beside the fuzz stack's ledger, the
stand-ins of the depository agent's transaction services and user-center's additions (tests/lending/standins.py),
orders seeded at each stage, and strategies of envelopes correctly signed with the partner's secret.

Without signed envelopes every partner call stops at "sign does not match"; with them about half the
cases reach bizData validation and what runs behind it, for the seeded orders too.
"""
import hashlib
import time
import uuid
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from shared.contract import ALL_PERIODS, CALLBACK_EVENTS, RONGSHU_APP_ID, RONGSHU_SECRET_FILE, PartnerCall
from shared.ledger_client import LedgerClient
from shared.partner_envelope import seal
from tests.api_fuzz.signed import HOSTILE, _valid_or_mutated
from tests.lending.conftest import FAST, Partner, approve, as_env, disbursed_loan, push
from tests.lending.standins import PLATFORM_NO, DepositoryStandIn, UserCenterStandIn, recharge
from tests.support.processes import WebService, free_port

from lending.bootstrap import Dependencies, build
from lending.credit_engine import check_character
from lending.orders import BANK_CODES

FUNDER_BALANCE = 10**10


@dataclass
class LendingStack:
    """The two services, the stand-ins behind lending, in-process dependencies for seeding, what was seeded."""

    lending: WebService
    sandbox: WebService
    bank: DepositoryStandIn
    users: UserCenterStandIn
    deps: Dependencies
    secret: str
    seeds: dict = field(default_factory=dict)

    def processes(self) -> list[WebService]:
        return [self.lending, self.sandbox]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()
        self.deps.close()
        self.users.stop()
        self.bank.stop()


def start_lending_stack(infra, ledger_url: str, log_dir: Path) -> LendingStack:
    """lending and partner-sandbox wired to each other, to the ledger at ``ledger_url`` and to the stand-ins."""
    secret = (Path(infra.keys_dir) / RONGSHU_SECRET_FILE).read_text().strip()
    ledger = LedgerClient(ledger_url, {"INTERNAL_TOKEN": infra.internal_token})
    bank = DepositoryStandIn(infra.internal_token, infra.amqp_url).start()
    users = UserCenterStandIn(infra.internal_token, bank, ledger).start()
    funder = "USR_" + uuid.uuid4().hex.upper()
    recharge(bank, ledger, funder, FUNDER_BALANCE)
    ledger.create_account(PLATFORM_NO, "platform")
    lending_port, sandbox_port = free_port(), free_port()
    settings = {**FAST, "LEDGER_URL": ledger_url, "DEPOSITORY_AGENT_URL": bank.url, "USER_CENTER_URL": users.url,
                "PARTNER_URL": f"http://127.0.0.1:{sandbox_port}",
                "PARTNER_CALLBACK_URL": f"http://127.0.0.1:{sandbox_port}/callbacks",
                "FUNDER_USER_NOS": (funder,), "PLATFORM_NO": PLATFORM_NO}
    sandbox = WebService("partner_sandbox", infra.service_env(
        "partner_sandbox", LENDING_URL=f"http://127.0.0.1:{lending_port}"), log_dir, port=sandbox_port).start()
    lending = WebService("lending", infra.service_env("lending", **as_env(settings)), log_dir,
                         port=lending_port).start()
    deps = build(infra.config("lending", **settings), "lending-fuzz-seeds")
    return LendingStack(lending, sandbox, bank, users, deps, secret)


def seed(stack: LendingStack) -> dict:
    """An order at each stage the partner calls reach (pushed, approved with a card, disbursed), a repayment,
    and the people behind them."""
    partner = Partner(stack.secret, url=stack.lending.url)
    pushed, pushed_person = push(partner)
    approved, approved_person = approve(stack.deps, partner)
    partner.ok(PartnerCall.CARD_BIND, {"orderNo": approved, "bankCode": "ICBC", "cardNumber": "6222020200112233445",
                                       "mobile": approved_person["mobile"]})
    disbursed, borrower = disbursed_loan(stack.deps, partner, stack.users, balance=10_000_000)
    trial = partner.ok(PartnerCall.REPAY_TRIAL, {"orderNo": disbursed, "periods": [1]})
    repay_no = "RP-FUZZ-" + disbursed
    partner.ok(PartnerCall.REPAY, {"orderNo": disbursed, "repayNo": repay_no, "periods": [1],
                                   "amount": trial["amount"]})
    stack.seeds = {"order_nos": [pushed, approved, disbursed], "pushed": pushed, "approved": approved,
                   "disbursed": disbursed, "repay_nos": [repay_no], "borrower": borrower,
                   "people": [pushed_person, approved_person], "amount": trial["amount"]}
    return stack.seeds


# --- strategies --------------------------------------------------------------------------------------------

def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _keys(known: list[str]):
    """Known keys (orderNo, repayNo), or fresh ones in the documented format."""
    return st.one_of(st.sampled_from(known), st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))


def _periods():
    return st.one_of(st.just(ALL_PERIODS), st.lists(st.integers(1, 8), min_size=1, max_size=3, unique=True))


def _person():
    """A person lending admits: a valid ID number of someone aged 20 to 55, a mobile, a name."""
    def who(parts):
        name, mobile, born, sequence = parts
        first17 = f"110105{born:%Y%m%d}{sequence:03d}"
        return {"name": name, "mobile": mobile, "idNumber": first17 + check_character(first17)}

    today = date.today()
    births = st.dates(today.replace(year=today.year - 54), today.replace(year=today.year - 21))
    return st.tuples(st.sampled_from(["张三", "李四", "Wang Wu"]), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                     births, st.integers(0, 999)).map(who)


def partner_biz(seeds: dict) -> dict:
    """Per partner call (its path), a strategy of bizData: valid (often for a seeded order) or with fields
    changed or dropped."""
    orders = _keys(seeds["order_nos"])
    people = seeds["people"]
    order = st.fixed_dictionaries({"orderNo": orders})
    valid = {
        PartnerCall.USER_FILTER: st.one_of(
            st.sampled_from(people).map(lambda who: {"mobileMd5": _md5(who["mobile"]),
                                                     "idNumberMd5": _md5(who["idNumber"])}),
            _person().map(lambda who: {"mobileMd5": _md5(who["mobile"]), "idNumberMd5": _md5(who["idNumber"])})),
        PartnerCall.LOAN_TRIAL: st.fixed_dictionaries({"loanAmount": st.integers(100_000, 20_000_000),
                                                       "loanTerm": st.integers(3, 24)}),
        PartnerCall.AGREEMENTS: st.one_of(st.just({}), order),
        PartnerCall.ORDER_PUSH: st.tuples(_person(), st.uuids(), st.integers(100_000, 20_000_000),
                                          st.integers(3, 24)).map(
            lambda parts: {"orderNo": "FZ" + parts[1].hex[:20].upper(), "loanAmount": parts[2], "loanTerm": parts[3],
                           **parts[0]}),
        PartnerCall.AUDIT_RESULT: order,
        PartnerCall.BANKS: st.just({}),
        PartnerCall.CARD_BIND: st.fixed_dictionaries({
            "orderNo": st.sampled_from([seeds["approved"], seeds["disbursed"]]),
            "bankCode": st.sampled_from(sorted(BANK_CODES)), "cardNumber": st.from_regex(r"[0-9]{16}", fullmatch=True),
            "mobile": st.sampled_from([who["mobile"] for who in people])}),
        PartnerCall.LOAN_CONFIRM: order,
        PartnerCall.LOAN_RESULT: order,
        PartnerCall.REPAY_PLAN: order,
        PartnerCall.REPAY_TRIAL: st.fixed_dictionaries({"orderNo": orders, "periods": _periods()}),
        PartnerCall.REPAY: st.fixed_dictionaries({
            "orderNo": orders, "repayNo": _keys(seeds["repay_nos"]), "periods": _periods(),
            "amount": st.one_of(st.just(seeds["amount"]), st.integers(1, 10**7))}),
        PartnerCall.REPAY_RESULT: st.fixed_dictionaries({"repayNo": _keys(seeds["repay_nos"])}),
    }
    mutations = {name: st.one_of(HOSTILE, st.sampled_from([
        "", "x" * 65, "all", [0], [1, 1], 10**13, -1, "11010519491231002X", "23800138000"]))
        for name in ("orderNo", "repayNo", "loanAmount", "loanTerm", "name", "mobile", "idNumber", "periods",
                     "amount", "bankCode", "cardNumber", "mobileMd5", "idNumberMd5")}
    return {call: _valid_or_mutated(strategy, mutations) for call, strategy in valid.items()}


def signed(biz, secret: str, app_id: str = RONGSHU_APP_ID):
    """Envelopes carrying ``biz``, signed with ``secret`` and stamped when drawn."""
    return biz.map(lambda value: seal(value, app_id, secret, int(time.time() * 1000)))


def lending_callbacks(order_nos: list[str]):
    """Callbacks as lending sends them: ``{eventId, event, orderNo, ...}``, valid or changed."""
    def callback(parts):
        event, order_no, number = parts
        return {"eventId": f"{event}:{order_no}:{number}", "event": event, "orderNo": order_no, "status": 7001}

    valid = st.tuples(st.sampled_from(sorted(CALLBACK_EVENTS)), _keys(order_nos), st.integers(0, 10**6)).map(callback)
    mutations = {name: st.one_of(HOSTILE, st.just("unknown.event")) for name in ("eventId", "event", "orderNo")}
    return st.one_of(valid, _valid_or_mutated(valid, mutations))


# --- what a run must also show -------------------------------------------------------------------------------

def refused_on_data(run) -> list[str]:
    """Operations that refused every case for its format (400 or 422 only): the document does not state a
    constraint the API enforces (schemathesis' "schema validation mismatch"), or the cases never reach past it."""
    return sorted(label for label, seen in run.statuses.items() if seen and set(seen) <= {400, 401, 405, 414, 422})


def tracebacks(process) -> str:
    """The first Python traceback in a process's log, with what follows it ('' when there is none)."""
    lines = process.log_path.read_text(errors="replace").splitlines()
    for index, line in enumerate(lines):
        if "Traceback (most recent call last)" in line:
            return "\n".join(lines[max(0, index - 2):index + 25])
    return ""

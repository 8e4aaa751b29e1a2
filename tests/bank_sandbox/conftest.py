"""Fixtures of the sandbox bank's tests: one app on the run's database, a scripted receiver
standing in for the agent and bank-callback, and helpers to sign requests as the platform does."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared.config import key_path
from shared.errors import BadRequest
from shared.signing import decode_wanxin, encode_wanxin, load_key, wanxin_time

from bank_sandbox.bootstrap import create_app, dependencies
from bank_sandbox.config import load
from tests.bank_sandbox.bank_client import BankClient
from tests.bank_sandbox.receiver import Receiver
from tests.support.processes import WebService

FAST = {
    "NOTIFIER_BACKOFF_BASE_SECONDS": "0.05",
    "NOTIFIER_BACKOFF_MAX_SECONDS": "0.2",
    "NOTIFIER_TIMEOUT_SECONDS": "2",
    "SANDBOX_SCRYPT_N": 1024,
}
PASSWORD = "246810"


def request_times(expires_in: float = 1800, now: datetime | None = None) -> dict:
    """``expired`` ``expires_in`` seconds from ``now`` (negative: already passed) and ``timestamp``
    1800 seconds (the platform's default lifetime) before it."""
    expired = (now or datetime.now(timezone.utc)).replace(microsecond=0) + timedelta(seconds=expires_in)
    return {"timestamp": wanxin_time(expired - timedelta(seconds=1800)), "expired": wanxin_time(expired)}


@pytest.fixture(scope="session")
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(infra, receiver) -> dict:
    """The sandbox's configuration for in-process tests: notifications go to the receiver."""
    infra.migrated_database("bank_sandbox")
    return load(infra.config("bank_sandbox", DEPOSITORY_AGENT_URL=receiver.url, BANK_CALLBACK_URL=receiver.url, **FAST))


@pytest.fixture(scope="session")
def app(settings):
    application = create_app(settings)
    dependencies(application).pool.wait()
    yield application
    dependencies(application).close()


@pytest.fixture
def pool(app):
    return dependencies(app).pool


@pytest.fixture(autouse=True)
def clean_outbox(pool, receiver):
    """Each test starts with an empty outbox, no stored faults and a fresh receiver script."""
    receiver.reset()
    with pool.connection() as conn:
        conn.execute("truncate delivery_attempts, deliveries, fault_settings")


@pytest.fixture
def client(app):
    return app.test_client()


class Platform:
    """Builds and signs gateway requests with the platform's key, as the depository agent does."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.private = load_key(key_path(settings, "PLATFORM_PRIVATE_KEY_PATH", "platform_private.pem"))
        self.bank_public = load_key(key_path(settings, "BANK_PUBLIC_KEY_PATH", "bank_public.pem"))
        self.huifu_public = load_key(key_path(settings, "HUIFU_PUBLIC_KEY_PATH", "huifu_public.pem"))

    @staticmethod
    def request_no() -> str:
        return "REQ_" + uuid.uuid4().hex.upper()

    @staticmethod
    def user_no() -> str:
        return "USR_" + uuid.uuid4().hex.upper()

    def register(self, user_no: str, **changes) -> dict:
        return {"requestNo": self.request_no(), "userNo": user_no, "fullname": "张三", "idNumber": "110101199003074512",
                "bankCode": "ICBK", "cardNumber": "6222020200112233445", "mobile": "13800138000", "role": "I",
                "callbackUrl": "http://127.0.0.1:8001/#/register-result", **request_times(), **changes}

    def recharge(self, user_no: str, amount: str, **changes) -> dict:
        return {"requestNo": self.request_no(), "userNo": user_no, "amount": amount,
                "callbackUrl": "http://frontend.test/recharge?from=bank", **request_times(), **changes}

    def withdraw(self, user_no: str, amount: str, commission: str = "1.00", **changes) -> dict:
        return {"requestNo": self.request_no(), "userNo": user_no, "amount": amount, "commission": commission,
                "cardNumber": "6222020200112233445", "mobile": "13800138000",
                "callbackUrl": "http://frontend.test/withdraw", **request_times(), **changes}

    @staticmethod
    def project_no() -> str:
        return "PRJ_" + uuid.uuid4().hex.upper()

    def project(self, borrower: str, amount: str = "1000.00", **changes) -> dict:
        return {"requestNo": self.request_no(), "projectNo": self.project_no(), "userNo": borrower,
                "projectAmount": amount, "projectName": "借款 ORD-1", "projectPeriod": 12, "annualRate": "0.18",
                "repaymentWay": "FIXED_REPAYMENT", **request_times(), **changes}

    def project_status(self, project_no: str, status: str, **changes) -> dict:
        return {"requestNo": self.request_no(), "projectNo": project_no, "projectStatus": status, **request_times(),
                **changes}

    def freeze(self, user_no: str, amount: str, biz_type: str, project_no: str, **changes) -> dict:
        return {"requestNo": self.request_no(), "userNo": user_no, "amount": amount, "bizType": biz_type,
                "projectNo": project_no, **request_times(), **changes}

    def cancel(self, pre_request_no: str, user_no: str, amount: str, **changes) -> dict:
        return {"requestNo": self.request_no(), "preRequestNo": pre_request_no, "userNo": user_no, "amount": amount,
                **request_times(), **changes}

    def loan(self, project_no: str, commission: str, details: list, **changes) -> dict:
        """``details``: [(preRequestNo, amount)]."""
        return {"requestNo": self.request_no(), "projectNo": project_no, "commission": commission,
                "details": [{"preRequestNo": pre, "amount": amount} for pre, amount in details], **request_times(),
                **changes}

    def repayment(self, pre_request_no: str, project_no: str, commission: str, details: list, **changes) -> dict:
        """``details``: [(userNo, amount, interest)]."""
        return {"requestNo": self.request_no(), "preRequestNo": pre_request_no, "projectNo": project_no,
                "commission": commission,
                "details": [{"userNo": user, "amount": amount, "interest": interest}
                            for user, amount, interest in details],
                **request_times(), **changes}

    def gateway_params(self, service_name: str, payload: dict, key=None) -> dict:
        req_data, signature = encode_wanxin(payload, key or self.private, self.settings["SIGN_HASH"])
        return {"serviceName": service_name, "platformNo": self.settings["PLATFORM_NO"],
                "reqData": req_data, "signature": signature}

    def confirm_body(self, service_name: str, payload: dict, password: str = PASSWORD, **extra) -> dict:
        params = self.gateway_params(service_name, payload)
        params.pop("serviceName")
        return {**params, "password": password, **extra}

    def read_notification(self, params: dict) -> dict:
        """Verify a bank-signed message with bank_public.pem, as the agent does."""
        return decode_wanxin(params["reqData"], params["signature"], self.bank_public, self.settings["SIGN_HASH"])

    def read_answer(self, answer: dict) -> dict:
        """Verify a bank-signed answer ``{respData, signature}`` (POST /service, the unknown query) and read it."""
        return decode_wanxin(answer["respData"], answer["signature"], self.bank_public, self.settings["SIGN_HASH"])

    def answer_verifies(self, answer: dict) -> bool:
        try:
            self.read_answer(answer)
        except BadRequest:
            return False
        return True


@pytest.fixture(scope="session")
def platform(settings) -> Platform:
    return Platform(settings)


@pytest.fixture
def opened_user(client, platform):
    """A bank user with an opened account (card at the configured starting balance)."""
    user_no = platform.user_no()
    answer = client.post("/sandbox/confirm", json=platform.confirm_body("PERSONAL_REGISTER", platform.register(user_no)))
    assert answer.status_code == 200 and answer.json["status"] == 1, answer.json
    return user_no


def fetch_one(pool, sql: str, *params):
    with pool.connection() as conn:
        return conn.execute(sql, params).fetchone()


def fetch_all(pool, sql: str, *params):
    with pool.connection() as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def http_bank(infra, settings, receiver, tmp_path_factory) -> WebService:
    """The sandbox as a real gunicorn process (two workers) on the run's database."""
    env = infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=receiver.url, BANK_CALLBACK_URL=receiver.url,
                            SANDBOX_SCRYPT_N=1024)
    service = WebService("bank_sandbox", env, tmp_path_factory.mktemp("http-bank"), workers=2).start()
    yield service
    service.stop()


@pytest.fixture
def sandbox(http_bank, platform) -> BankClient:
    """The platform's calls to the real sandbox over HTTP."""
    return BankClient(http_bank.url, platform, PASSWORD)

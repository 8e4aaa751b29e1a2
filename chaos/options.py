"""What a campaign does: how much traffic, which faults, how fast the platform retries."""
import argparse
import runpy
from dataclasses import dataclass, field, fields
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# gunicorn kills a worker silent for this long (deploy/gunicorn.conf.py): a freeze must end before it
GUNICORN_WORKER_TIMEOUT = runpy.run_path(str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"))[
    "timeout"]


@dataclass
class Options:
    """Every knob of one campaign; the defaults are the full run of ``make chaos``."""

    recharges: int = 5000
    withdraws: int = 1000
    users: int = 100
    huifu_users: int = 30
    netsaves: int = 300
    loans: int = 20                 # borrowers, each: a loan through lending, one period repaid, settled early
    card_balance: str = "1000000.00"  # sandbox SANDBOX_CARD_BALANCE: a new bank user's card (the funder's too)
    threads: int = 12
    fail_rate: float = 0.1          # confirmations answered with outcome "fail"
    abandon_rate: float = 0.01      # gateway requests never brought to the bank (expire by compensation)
    commission: str = "0.50"        # user-center WITHDRAW_COMMISSION, held and paid with each withdraw
    platform_no: str = "WANXINP2P"  # PLATFORM_NO of every service; a paid withdraw's commission goes to its wallet
    duplicate_rate: float = 0.2     # sandbox: share of notifications delivered twice
    drop_rate: float = 0.1          # sandbox: share of notifications whose first attempt is dropped
    consumer_kills: int = 3
    relay_kills: int = 3
    rabbitmq_restarts: int = 1
    pg_terminations: int = 1
    redis_stops: int = 1
    redis_down_seconds: float = 5.0
    rabbitmq_down_seconds: float = 3.0
    ledger_outages: int = 1         # the ledger's gunicorn stopped (nothing listens), started again later
    ledger_down_seconds: float = 60.0
    ledger_freezes: int = 2         # one ledger worker SIGSTOPped past service_timeout, then SIGCONTed
    freeze_seconds: float = 10.0
    service_timeout: int = 5        # user-center SERVICE_TIMEOUT_SECONDS (its calls to the ledger and the agent)
    frontend_origin: str = "https://platform.chaos.invalid/"  # CALLBACK_URL_PREFIXES; callbackUrls start with it
    expiry_seconds: int = 20        # a signed request expires after this; compensation then fails it
    settle_timeout: float = 300.0
    web_workers: int = 2
    notifiers: int = 2
    seed: int = 20240601
    results_dir: Path = field(default=RESULTS_DIR)
    results_name: str = "campaign"

    def __post_init__(self):
        if self.ledger_freezes and not self.service_timeout < self.freeze_seconds < GUNICORN_WORKER_TIMEOUT:
            raise ValueError(f"--freeze-seconds must exceed --service-timeout ({self.service_timeout}) and stay under"
                             f" gunicorn's worker timeout ({GUNICORN_WORKER_TIMEOUT}), or the master kills the worker")

    @property
    def client_patience(self) -> float:
        """How long a campaign user keeps retrying one call that fails transiently (a ledger outage included)."""
        return self.ledger_down_seconds + 60.0

    def stack_settings(self) -> dict:
        """Environment of every service process: fast retries and polling, so the run settles in seconds."""
        return {
            "NOTIFIER_BACKOFF_BASE_SECONDS": "0.2",
            "NOTIFIER_BACKOFF_MAX_SECONDS": "2",
            "NOTIFIER_POLL_SECONDS": "0.05",
            "OUTBOX_POLL_MS": "50",
            "COMPENSATION_AGE_SECONDS": "5",
            "COMPENSATION_INTERVAL_SECONDS": "3",
            "COMPENSATION_POLL_SECONDS": "1",
            "GATEWAY_REQUEST_TTL_SECONDS": str(self.expiry_seconds),
            "COMPENSATION_EXPIRY_GRACE_SECONDS": "0",
            "EXCEPTION_POLL_SECONDS": "2",
            "RETRY_BASE_MS": "200",
            "RETRY_MAX_MS": "2000",
            "RECONNECT_MAX_SECONDS": "2",
            "HOLD_SWEEP_MS": "1000",
            "HOLD_RETRY_BASE_SECONDS": "1",
            "HOLD_RETRY_MAX_SECONDS": "5",
            "HOLD_ORPHAN_SECONDS": "15",
            "CREDIT_POLL_MS": "200",
            "CREDIT_MAX_BACKOFF_MS": "1000",
            "WITHDRAW_COMMISSION": self.commission,
            "PLATFORM_NO": self.platform_no,
            "SERVICE_TIMEOUT_SECONDS": str(self.service_timeout),
            "CALLBACK_URL_PREFIXES": self.frontend_origin,
            # The bank's transaction-password hash cost: cheap here, the campaign measures delivery, not scrypt.
            "SANDBOX_SCRYPT_N": "1024",
            "SANDBOX_CARD_BALANCE": self.card_balance,
            # lending: jobs and resends every second or two, so loans settle within the campaign's seconds
            "JOB_POLL_MS": "200", "STATE_CHECK_SECONDS": "1", "CALL_RESEND_SECONDS": "3",
            "DISBURSE_RETRY_BASE_SECONDS": "1", "DISBURSE_RETRY_MAX_SECONDS": "5", "POSTING_RETRY_BASE_SECONDS": "1",
            "POSTING_RETRY_MAX_SECONDS": "5", "CALLBACK_RETRY_BASE_SECONDS": "1", "CALLBACK_RETRY_MAX_SECONDS": "5",
            "PULL_RETRY_BASE_SECONDS": "1",
        }


_HELP = {
    "recharges": "recharge requests (wanxin)", "withdraws": "withdraw requests (wanxin)",
    "users": "platform users with an opened depository account", "huifu_users": "Huifu customers (openids)",
    "netsaves": "Huifu recharges", "loans": "loans taken through lending, each repaid in two steps",
    "card_balance": "what a new bank user's card holds (yuan); the funder recharges the loans from its own",
    "threads": "client threads", "fail_rate": "share confirmed with outcome fail",
    "abandon_rate": "share of gateway requests never confirmed", "commission": "withdraw commission (yuan)",
    "platform_no": "the platform's number (PLATFORM_NO), whose ledger wallet receives the commissions",
    "duplicate_rate": "share of bank notifications duplicated", "drop_rate": "share whose first attempt is dropped",
    "consumer_kills": "SIGKILLs of the GatewayNotifyConsumer", "relay_kills": "SIGKILLs of the outbox relay",
    "rabbitmq_restarts": "RabbitMQ stop_app/start_app cycles", "pg_terminations": "pg_terminate_backend rounds",
    "redis_stops": "stops of the private Redis", "redis_down_seconds": "how long Redis stays down",
    "rabbitmq_down_seconds": "how long RabbitMQ stays stopped", "expiry_seconds":
    "GATEWAY_REQUEST_TTL_SECONDS: an unconfirmed request expires after this",
    "ledger_outages": "stops of the ledger's gunicorn (connections refused meanwhile)",
    "ledger_down_seconds": "how long nothing listens on the ledger's port",
    "ledger_freezes": "SIGSTOPs of one ledger worker", "freeze_seconds": "how long the worker stays stopped",
    "service_timeout": "user-center SERVICE_TIMEOUT_SECONDS",
    "frontend_origin": "the frontend origin allowed as callbackUrl prefix (CALLBACK_URL_PREFIXES)",
    "settle_timeout": "longest wait for the platform to settle (s)", "web_workers": "gunicorn workers per service",
    "notifiers": "bank-sandbox notifier processes", "seed": "random seed of the workload",
    "results_dir": "where the figures are written", "results_name": "file name of the figures (.json, .txt)",
}


def parse(argv: list[str] | None = None) -> Options:
    """Options from the command line (``--recharges 150 --consumer-kills 1 ...``)."""
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    for option in fields(Options):
        default = option.default
        kind = Path if option.name == "results_dir" else type(default)
        parser.add_argument(f"--{option.name.replace('_', '-')}", type=kind, default=default,
                            help=f"{_HELP[option.name]} (default: {default})")
    return Options(**vars(parser.parse_args(argv)))

"""The campaign's own world: a private RabbitMQ node and a private redis-server that its faults stop
and start (the machine's broker and Redis are never touched), per-run databases on the machine's
PostgreSQL with a vhost and Redis prefix (tests.support.infra), fresh dev keys, and the whole stack as
real processes (the ledger with the gunicorn worker class it is deployed with, so that freezing one of
its workers strands the keep-alive connections callers hold to it, as in production)."""
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shared.devkeys import generate
from shared.money import parse_yuan
from tests.support.infra import Infra
from tests.support.processes import ROOT, RabbitMQServer, RedisServer, Worker
from tests.support.stack import LENDING_WORKERS, PLATFORM_WORKERS, Stack, start_stack

from chaos.options import Options

PG_SERVER_URL = os.environ.get("TEST_PG_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
# Procfile process -> package whose gunicorn options the campaign takes over
DEPLOYED_AS = {"beanpay-ledger": "beanpay_ledger"}
# options (each with one value) the test stack sets itself
STACK_OWN_OPTIONS = {"-c", "--workers", "--bind"}


def deployed_gunicorn_options(procfile: Path = ROOT / "Procfile") -> dict[str, tuple[str, ...]]:
    """The gunicorn options the Procfile runs each package of :data:`DEPLOYED_AS` with (worker class,
    threads, ...), without those the test stack sets itself (config file, worker count, address)."""
    options = {}
    for line in procfile.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() not in DEPLOYED_AS:
            continue
        argv, kept = shlex.split(command)[1:-1], []  # drop "gunicorn" and the app
        while argv:
            option = argv.pop(0)
            if option in STACK_OWN_OPTIONS:
                argv.pop(0)
            else:
                kept.append(option)
        options[DEPLOYED_AS[name.strip()]] = tuple(kept)
    return options


@dataclass
class Environment:
    """Everything one campaign started; :meth:`close` removes it all."""

    infra: Infra
    rabbitmq: RabbitMQServer
    redis: RedisServer
    stack: Stack
    work_dir: Path
    extra_notifiers: list
    funder: str = ""    # the userNo lending lends from, funded for the campaign's loans
    card_fen: int = 0   # what a new bank user's card holds

    @property
    def log_dir(self) -> Path:
        return self.stack.log_dir

    def run_command(self, package: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """``python -m <package> <args>`` with the service's environment (an operator command)."""
        env = {**os.environ, **self.stack.env(package),
               "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'services'}"}
        return subprocess.run([sys.executable, "-m", package, *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def close(self, keep_logs: bool = False) -> None:
        for worker in self.extra_notifiers:
            worker.stop()
        self.stack.stop()
        try:
            self.infra.teardown()
        finally:
            self.rabbitmq.stop()
            self.redis.stop()
            if not keep_logs:
                shutil.rmtree(self.work_dir, ignore_errors=True)


def start(options: Options) -> Environment:
    """Create the run's infrastructure and start every service and worker; returns when all answer.
    Whatever was started is stopped and removed again if a later step fails."""
    work_dir = Path(tempfile.mkdtemp(prefix="chaos-"))
    keys = work_dir / "keys"
    keys.mkdir()
    generate(str(keys))
    with contextlib.ExitStack() as undo:
        rabbitmq = RabbitMQServer(work_dir)
        undo.callback(rabbitmq.stop)
        rabbitmq.start()
        redis_server = RedisServer(work_dir)
        undo.callback(redis_server.stop)
        redis_server.start()
        infra = Infra(pg_server_url=PG_SERVER_URL, amqp_server_url=rabbitmq.url, redis_url=redis_server.url,
                      keys_dir=str(keys), internal_token=(keys / "internal_token").read_text().strip(),
                      rabbitmqctl=rabbitmq.ctl)
        infra.setup()
        undo.callback(infra.teardown)
        stack = start_stack(infra, work_dir, settings=options.stack_settings(), workers=options.web_workers,
                            worker_names=PLATFORM_WORKERS + LENDING_WORKERS,
                            gunicorn_options=deployed_gunicorn_options())
        undo.callback(stack.stop)
        # for the loans of ¥10,000.00 each, and ¥1,000.00 more
        funder = stack.open_funder(f"{options.loans * 10000 + 1000}.00", f"{options.frontend_origin}#/callback")
        notifiers = []
        for number in range(2, options.notifiers + 1):
            notifier = Worker("bank_sandbox.workers.notifier", stack.env("bank_sandbox"), work_dir,
                              name=f"notifier-{number}")
            undo.callback(notifier.stop)
            notifiers.append(notifier.start())
        undo.pop_all()
    return Environment(infra, rabbitmq, redis_server, stack, work_dir, notifiers, funder,
                       parse_yuan(options.card_balance, "card_balance", 10**15))

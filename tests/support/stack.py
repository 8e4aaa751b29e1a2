"""The whole platform as real processes: seven gunicorn services and their workers, wired together."""
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.infra import Infra
from tests.support.processes import Process, WebService, Worker, free_port, run_module

WEB_SERVICES = {
    "user_center": "USER_CENTER_URL",
    "depository_agent": "DEPOSITORY_AGENT_URL",
    "bank_callback": "BANK_CALLBACK_URL",
    "beanpay_ledger": "LEDGER_URL",
    "bank_sandbox": "BANK_SANDBOX_URL",
    "lending": "LENDING_URL",
    "partner_sandbox": "PARTNER_SANDBOX_URL",
}
WORKERS = {
    "gateway_notify": ("user_center", "user_center.workers.gateway_notify"),
    "outbox_relay": ("depository_agent", "depository_agent.workers.outbox_relay"),
    "compensation": ("depository_agent", "depository_agent.workers.compensation"),
    "netsave_crediter": ("bank_callback", "bank_callback.workers.netsave_crediter"),
    "notifier": ("bank_sandbox", "bank_sandbox.workers.notifier"),
}
# The depository platform's workers: what a stack starts unless a test names others.
PLATFORM_WORKERS = tuple(WORKERS)
# lending's jobs and consumers (the Procfile's), by short name; a lending test starts PLATFORM_WORKERS +
# LENDING_WORKERS.
LENDING_WORKERS = ("lending_outbox_relay", "credit_engine", "credit_data_pull", "order_parse", "credit_apply",
                   "credit_result", "depository_state_check", "audit_result", "disburse", "loan_result",
                   "repay_result", "overdue", "partner_callbacks", "ledger_mirror")
WORKERS.update({name: ("lending", f"lending.workers.{name.removeprefix('lending_')}") for name in LENDING_WORKERS})


@dataclass
class Stack:
    """Running services by package name and workers by short name, with the shared environment."""

    infra: Infra
    log_dir: Path
    settings: dict
    web: dict = field(default_factory=dict)
    workers: dict = field(default_factory=dict)

    def url(self, package: str) -> str:
        return self.web[package].url

    def env(self, package: str) -> dict:
        return self.infra.service_env(package, **self.settings)

    def start_worker(self, name: str) -> Worker:
        """(Re)start worker ``name``, e.g. after a test killed it."""
        package, module = WORKERS[name]
        worker = Worker(module, self.env(package), self.log_dir, name=name)
        self.workers[name] = worker.start()
        return worker

    def open_funder(self, amount: str = "10000000.00", callback_url: str | None = None) -> str:
        """Open and fund lending's funder as `make run` does (``python -m shared.funder``; a new bank user's card
        must hold ``amount``: SANDBOX_CARD_BALANCE; the bank's callbacks to ``callback_url`` if given); returns
        its userNo, written where lending reads it."""
        output = self.settings["FUNDER_USER_NOS_FILE"]
        env = {"USER_CENTER_URL": self.url("user_center"), "BANK_SANDBOX_URL": self.url("bank_sandbox")}
        callback = ["--callback-url", callback_url] if callback_url else []
        done = run_module("shared.funder", "--state", str(self.log_dir / "funder.json"), "--output", output,
                          "--amount", amount, *callback, env=env, timeout=300)
        if done.returncode:
            raise RuntimeError(f"the funder could not be opened:\n{done.stdout}{done.stderr}")
        return Path(output).read_text(encoding="utf-8").strip()

    def processes(self) -> list[Process]:
        return [*self.workers.values(), *self.web.values()]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()


def start_stack(infra: Infra, log_dir: Path, settings: dict | None = None, workers: int = 2,
                worker_names=PLATFORM_WORKERS, gunicorn_options: dict | None = None) -> Stack:
    """Start every service (each on a free port) and the named workers; returns once all answer /healthz.

    lending is wired to the partner sandbox (its data and callbacks) and reads its funders from
    ``FUNDER_USER_NOS_FILE`` in ``log_dir`` unless ``settings`` say otherwise (``deploy/funder.py`` writes it).
    ``gunicorn_options`` maps a package to extra gunicorn options (e.g. the worker class it is deployed with).
    """
    ports = {package: free_port() for package in WEB_SERVICES}
    wiring = {env_name: f"http://127.0.0.1:{ports[package]}" for package, env_name in WEB_SERVICES.items()}
    # the bank may send browsers back only to this stack's own frontend
    wiring["CALLBACK_URL_PREFIXES"] = wiring["USER_CENTER_URL"] + "/"
    # lending's partner is the partner sandbox; agreement links point at lending itself
    partner = wiring["PARTNER_SANDBOX_URL"]
    wiring.update(PARTNER_URL=partner, PARTNER_CALLBACK_URL=partner + "/callbacks", PUBLIC_URL=wiring["LENDING_URL"],
                  FUNDER_USER_NOS_FILE=str(log_dir / "funder_user_nos"))
    # user-center's one-time links point the browser at this stack's own user-center
    wiring["USER_CENTER_PUBLIC_URL"] = wiring["USER_CENTER_URL"]
    stack = Stack(infra, log_dir, {**wiring, **(settings or {})})
    try:
        for package in WEB_SERVICES:
            stack.web[package] = WebService(package, stack.env(package), log_dir, workers=workers, port=ports[package],
                                            options=tuple((gunicorn_options or {}).get(package, ()))).start()
        for name in worker_names:
            stack.start_worker(name)
    except Exception:
        stack.stop()
        raise
    return stack

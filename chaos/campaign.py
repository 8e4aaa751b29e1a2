"""One campaign from start to verdict: environment, accounts, traffic under faults, settling, proof."""
import datetime
import logging
import shlex
import sys
import time
from dataclasses import asdict

from chaos import environment, report
from chaos.faults import FaultInjector
from chaos.options import Options
from chaos.verify import Verdict, bank_totals, verify, wait_until_settled
from chaos.workload import Traffic

log = logging.getLogger("chaos")


def run(options: Options, argv: list[str] | None = None) -> dict:
    """Run the campaign; return its figures (``figures["passed"]`` is the verdict), also written to
    ``options.results_dir``. Everything it started is stopped and removed before it returns."""
    started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    clock = time.monotonic()
    durations: dict = {}
    env = environment.start(options)
    durations["stack_start"] = time.monotonic() - clock
    passed = False
    try:
        urls = {package: env.stack.url(package) for package in env.stack.web}
        traffic = Traffic(options, urls, env.infra.partner_secret)
        injector = FaultInjector(env, options, traffic)
        injector.arm_bank()

        mark = time.monotonic()
        traffic.open_accounts()
        traffic.bank_totals = bank_totals(env)  # the loans' borrowers open theirs during the traffic
        durations["accounts"] = time.monotonic() - mark

        mark = time.monotonic()
        injector.start()
        traffic.run()
        durations["traffic"] = time.monotonic() - mark
        mark = time.monotonic()
        injector.finish()
        durations["faults_after_traffic"] = time.monotonic() - mark
        log.warning("traffic done in %.1fs (%d operations); waiting for the platform to settle",
                    durations["traffic"], traffic.done)

        settled, durations["settle"], left, replays = wait_until_settled(
            env, options.settle_timeout, stall=max(60.0, 2.0 * options.expiry_seconds + 10))
        mark = time.monotonic()
        verdict = verify(env, traffic)
        durations["verify"] = time.monotonic() - mark
        _add_run_problems(verdict, traffic, injector, settled, left, replays)
        durations["total"] = time.monotonic() - clock

        figures = _figures(options, argv, started_at, durations, traffic, injector, env, verdict, settled,
                           replays)
        passed = figures["passed"]
    finally:
        if not passed:
            log.warning("process logs kept in %s", env.log_dir)
        env.close(keep_logs=not passed)
    if not passed:
        figures["logs"] = str(env.log_dir)
    report.write(figures, options.results_dir, options.results_name)
    return figures


def _add_run_problems(verdict: Verdict, traffic: Traffic, injector: FaultInjector, settled: bool, left: dict,
                      replays: int) -> None:
    for error in traffic.errors:
        verdict.violation(f"traffic stopped: {error}")
    for error in injector.errors:
        verdict.violation(f"fault not injected: {error}")
    if not settled:
        verdict.violation(f"not settled: still on its way {left}")
    if replays:
        # every result the campaign produces can apply: only a transient failure can have parked it
        verdict.violation(f"{replays} bank results dead-lettered by transient failures (they must be retried, never"
                          f" dead-lettered); replayed by the operator command before the books were checked")


def _figures(options: Options, argv, started_at: str, durations: dict, traffic: Traffic,
             injector: FaultInjector, env, verdict: Verdict, settled: bool, replays: int) -> dict:
    requests = report.request_figures(traffic)
    issued = requests["recharges"] + requests["withdraws"] + requests["netsaves"]
    faults = {**report.bank_fault_figures(env), **injector.counts()}
    faults["postgres_connections_killed"] = sum(
        event.detail.get("connections", 0) for event in injector.events)
    results = {**verdict.figures, "settled": settled, "dlq_replayed": replays,
               "violations_total": verdict.figures.get("violations_total", 0)}
    return {
        "started_at": started_at,
        "command": "python -m chaos " + " ".join(shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:])),
        "passed": verdict.ok and settled,
        "options": {key: str(value) for key, value in asdict(options).items()},
        "requests": requests,
        "faults": faults,
        "fault_events": [asdict(event) for event in injector.events],
        "results": results,
        "durations": {key: round(value, 2) for key, value in durations.items()},
        "throughput": {
            "requests_per_second": issued / durations["traffic"] if durations["traffic"] else 0.0,
            "settled_per_second": issued / (durations["traffic"] + durations["settle"]),
        },
        "violations": verdict.violations,
    }

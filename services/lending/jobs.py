"""The loop every polling job runs: a pass, then again at once while passes find work, else a pause of
JOB_POLL_MS. A pass that fails (database or a peer down) is logged and tried again after the pause:
jobs only ever act through conditional transitions, so a pass cut short leaves nothing half done that
the next pass does not pick up."""
import logging
import threading
from typing import Callable

from shared.logs import bind_request_id
from shared.workers import run_worker

from lending.bootstrap import Dependencies, build
from lending.config import load


def run_job(name: str, config: dict, stop: threading.Event, step: Callable[[Dependencies], int],
            pause_ms: int | None = None) -> None:
    """Run ``step(deps)`` until ``stop`` is set; ``step`` returns how much it did."""
    log = logging.getLogger(name)
    deps = build(config, name)
    pause = (pause_ms if pause_ms is not None else deps.config["JOB_POLL_MS"]) / 1000
    try:
        while not stop.is_set():
            bind_request_id(None)
            try:
                done = step(deps)
            except Exception as exc:  # any failure: the pass is tried again after the pause
                log.warning("pass failed: %s: %s", exc.__class__.__name__, getattr(exc, "msg", exc))
                done = 0
            if not done:
                stop.wait(pause)
    finally:
        deps.close()


def job_main(name: str, step: Callable[[Dependencies], int], pause_setting: str | None = None) -> Callable[[], None]:
    """The ``main()`` of a job's worker process: ``step`` run by :func:`run_job` under
    :func:`shared.workers.run_worker`, pausing JOB_POLL_MS (or the ``pause_setting`` in seconds)."""
    def main() -> None:
        run_worker(name, load(), lambda config, stop: run_job(
            name, config, stop, step, pause_ms=config[pause_setting] * 1000 if pause_setting else None))
    return main

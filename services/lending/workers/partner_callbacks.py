"""partner-callbacks: delivers the partner callbacks the state changes wrote, until each is acknowledged
with ``{"code": 0}``. ``python -m lending.workers.partner_callbacks``."""
from shared.workers import run_worker

from lending import callbacks
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.partner-callbacks", load(), lambda config, stop: run_job(
        "lending.partner-callbacks", config, stop, callbacks.deliver_due))


if __name__ == "__main__":
    main()

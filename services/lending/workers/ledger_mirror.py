"""ledger-mirror: posts the ledger postings bank results wrote, until the ledger has each one.
``python -m lending.workers.ledger_mirror``."""
from shared.workers import run_worker

from lending import ledger_mirror
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.ledger-mirror", load(), lambda config, stop: run_job(
        "lending.ledger-mirror", config, stop, ledger_mirror.post_due))


if __name__ == "__main__":
    main()

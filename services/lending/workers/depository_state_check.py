"""depository-state-check (the seed's OpenapiXWAuthStateCheckJob): confirmations whose borrower has
opened the depository account since become borrows; approved orders past CONFIRM_DAYS expire.
``python -m lending.workers.depository_state_check``."""
from shared.workers import run_worker

from lending import confirmation
from lending.config import load
from lending.jobs import run_job


def main() -> None:
    run_worker("lending.depository-state-check", load(), lambda config, stop: run_job(
        "lending.depository-state-check", config, stop, confirmation.check_depository_states))


if __name__ == "__main__":
    main()

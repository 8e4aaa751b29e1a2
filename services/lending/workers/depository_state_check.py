"""depository-state-check (the seed's OpenapiXWAuthStateCheckJob): confirmations whose borrower has
opened the depository account since become borrows; approved orders past CONFIRM_DAYS expire.
``python -m lending.workers.depository_state_check``."""
from lending import loan_confirmation
from lending.workers import job_main

main = job_main("lending.depository-state-check", loan_confirmation.check_depository_states)

if __name__ == "__main__":
    main()

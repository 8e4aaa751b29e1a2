"""credit-apply: asks the credit engine (a credit.request message through the outbox); 10 -> 11.
``python -m lending.workers.credit_apply``."""
from lending import credit_application
from lending.workers import job_main

main = job_main("lending.credit-apply", credit_application.apply_credit)

if __name__ == "__main__":
    main()

"""credit-data-pull (the seed's RongshuOperatorPullJob): pulls each pushed order's operator, credit-card
and device data from the partner; 0 -> 2. ``python -m lending.workers.credit_data_pull``."""
from lending import credit_application
from lending.workers import job_main

main = job_main("lending.credit-data-pull", credit_application.pull_credit_data)

if __name__ == "__main__":
    main()

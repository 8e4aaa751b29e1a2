"""ledger-mirror: posts the ledger postings bank results wrote, until the ledger has each one.
``python -m lending.workers.ledger_mirror``."""
from lending import ledger_mirror
from lending.workers import job_main

main = job_main("lending.ledger-mirror", ledger_mirror.post_due)

if __name__ == "__main__":
    main()

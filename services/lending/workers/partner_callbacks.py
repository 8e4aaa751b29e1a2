"""partner-callbacks: delivers the partner callbacks the state changes wrote, until each is acknowledged
with ``{"code": 0}``. ``python -m lending.workers.partner_callbacks``."""
from lending import partner_callbacks
from lending.workers import job_main

main = job_main("lending.partner-callbacks", partner_callbacks.deliver_due)

if __name__ == "__main__":
    main()

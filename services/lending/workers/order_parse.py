"""order-parse (the seed's RongshuPushOrderJob): turns pulled credit data into features; 2 -> 10.
``python -m lending.workers.order_parse``."""
from lending import credit_application
from lending.workers import job_main

main = job_main("lending.order-parse", credit_application.parse_orders)

if __name__ == "__main__":
    main()

"""credit-result consumer (the seed's RongshuCreditResultProcessor): 11 -> 12, or 4 with a
credit.rejected callback. ``python -m lending.workers.credit_result``."""
from lending import credit_application
from lending.workers import CREDIT_RESULTS, consumer_main

main = consumer_main("lending.credit-result", {CREDIT_RESULTS: credit_application.apply_credit_decision})

if __name__ == "__main__":
    main()

"""bank-callback's gauges on /metrics, read from the database at scrape time."""
from flask import Flask

from shared.metrics import PerScrape, add_gauge, db_gauge

from bank_callback import repository


def register(app: Flask) -> None:
    """Netsaves waiting to be credited (and the oldest one's age), and the number of customers."""
    pool = app.extensions["db"]

    backlog = PerScrape(db_gauge(pool, repository.netsave_backlog))

    def waiting():
        rows = {row["customer_known"]: row["rows"] for row in backlog()}
        return [({"customer_known": str(known).lower()}, rows.get(known, 0)) for known in (True, False)]

    def oldest():
        return max((row["oldest_seconds"] for row in backlog()), default=0.0)

    add_gauge(app, "bank_callback_netsave_uncredited", "recharge callbacks not credited yet, by customer known",
              waiting)
    add_gauge(app, "bank_callback_netsave_oldest_uncredited_seconds", "age of the oldest uncredited recharge", oldest)
    add_gauge(app, "bank_callback_customers", "live bank customers (openid bindings)",
              db_gauge(pool, repository.customer_count))

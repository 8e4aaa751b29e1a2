"""lending's gauges on /metrics, read from the database when Prometheus scrapes.

| gauge | labels | meaning |
|---|---|---|
| ``lending_orders`` | status | partner orders by status (0, 2, 10, 11, 12, 1, 4, 5) |
| ``lending_borrows`` | status | borrows by status (0, 10, 20, 13, 30, 31, 27, 40, 41) |
| ``lending_disbursements`` / ``lending_disbursed_fen`` | | loans disbursed, and their amount |
| ``lending_repayments`` / ``lending_repayments_fen`` | status | repayments by status, and their amount |
| ``lending_overdue_periods`` / ``_principal_fen`` / ``_penalty_fen`` | | overdue periods, principal, penalty |
| ``lending_callbacks_pending`` / ``lending_callback_oldest_seconds`` | | callbacks not acknowledged, the oldest's age |
| ``lending_depository_calls_pending`` | | calls to the depository without a final result |
| ``lending_ledger_postings_pending`` / ``_refused`` | | ledger mirror backlog; postings an operator must look at |
| ``lending_anomalies`` | | anomalies recorded |
"""
from psycopg_pool import ConnectionPool

from shared.contract import REPAY_FAILED, REPAY_PROCESSING, REPAY_SUCCESS
from shared.metrics import PerScrape, db_gauge

from lending.repository import stats

ORDER_STATUSES = (0, 2, 10, 11, 12, 1, 4, 5)
BORROW_STATUSES = (0, 10, 20, 13, 30, 31, 27, 40, 41)
REPAYMENT_STATUSES = (REPAY_PROCESSING, REPAY_SUCCESS, REPAY_FAILED)


def gauges(pool: ConnectionPool) -> list[tuple]:
    """lending's gauges, ``(name, help, function)`` each, all read from one query per scrape."""
    read = PerScrape(db_gauge(pool, stats.counts))

    def statuses(group: str, known: tuple):
        return lambda: [({"status": status}, read()[group].get(status, 0)) for status in known]

    def repayments(column: str):
        def values():
            rows = {row["status"]: row[column] for row in read()["repayments"]}
            return [({"status": status}, rows.get(status, 0)) for status in REPAYMENT_STATUSES]
        return values

    return [
        ("lending_orders", "partner orders by status", statuses("orders", ORDER_STATUSES)),
        ("lending_borrows", "borrows by status", statuses("borrows", BORROW_STATUSES)),
        ("lending_disbursements", "loans disbursed", lambda: read()["disbursed"]["n"]),
        ("lending_disbursed_fen", "amount disbursed (fen)", lambda: read()["disbursed"]["fen"]),
        ("lending_repayments", "repayments by status", repayments("n")),
        ("lending_repayments_fen", "repayment amounts by status (fen)", repayments("fen")),
        ("lending_overdue_periods", "overdue periods", lambda: read()["overdue"]["n"]),
        ("lending_overdue_principal_fen", "principal of overdue periods (fen)", lambda: read()["overdue"]["principal"]),
        ("lending_overdue_penalty_fen", "penalty of overdue periods (fen)", lambda: read()["overdue"]["penalty"]),
        ("lending_callbacks_pending", "partner callbacks not acknowledged", lambda: read()["backlog"]["callbacks"]),
        ("lending_callback_oldest_seconds", "age of the oldest callback not acknowledged",
         lambda: read()["backlog"]["callback_age"]),
        ("lending_depository_calls_pending", "depository calls without a final result",
         lambda: read()["backlog"]["calls"]),
        ("lending_ledger_postings_pending", "ledger postings not posted yet", lambda: read()["backlog"]["postings"]),
        ("lending_ledger_postings_refused", "ledger postings refused (anomalies)",
         lambda: read()["backlog"]["refused_postings"]),
        ("lending_anomalies", "anomalies recorded", lambda: read()["backlog"]["anomalies"]),
    ]

"""What /metrics reads at scrape time."""


def counts(conn) -> dict:
    """Orders and borrows by status, repayments by status with their amounts, money disbursed, overdue
    periods, and the backlogs (callbacks, depository calls, ledger postings, anomalies)."""
    def by_status(table: str) -> dict:
        return {row["status"]: row["n"] for row in conn.execute(
            f"select status, count(*) as n from {table} group by status").fetchall()}

    disbursed = conn.execute("select count(*) as n, coalesce(sum(amount), 0)::bigint as fen from borrows"
                             " where loan_time is not null").fetchone()
    repayments = conn.execute("select status, count(*) as n, coalesce(sum(amount), 0)::bigint as fen from repayments"
                              " group by status").fetchall()
    overdue = conn.execute("select count(*) as n, coalesce(sum(principal), 0)::bigint as principal,"
                           " coalesce(sum(penalty), 0)::bigint as penalty from plans where status = 2").fetchone()
    backlog = conn.execute(
        "select (select count(*) from partner_callbacks where status = 0) as callbacks,"
        " coalesce((select extract(epoch from now() - min(created_at)) from partner_callbacks"
        "   where status = 0), 0)::float8"
        "   as callback_age,"
        " (select count(*) from depository_calls where status = 0) as calls,"
        " (select count(*) from ledger_postings where status = 0) as postings,"
        " (select count(*) from ledger_postings where status = 2) as refused_postings,"
        " (select count(*) from anomalies) as anomalies").fetchone()
    return {"orders": by_status("partner_orders"), "borrows": by_status("borrows"), "disbursed": disbursed,
            "repayments": repayments, "overdue": overdue, "backlog": backlog}

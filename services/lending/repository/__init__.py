"""SQL only: one module per group of tables; every function takes the connection of the caller's unit of work."""


def transaction_time(conn):
    """The database's time of the current transaction (``now()``), so that every row a step writes carries
    the same instant."""
    return conn.execute("select now() as now").fetchone()["now"]

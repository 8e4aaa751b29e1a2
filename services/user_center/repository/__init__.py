"""SQL of user-center, one module per aggregate; functions take an open connection (dict rows)."""

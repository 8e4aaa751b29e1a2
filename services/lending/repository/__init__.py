"""SQL only: one module per group of tables; every function takes the connection of the caller's unit of work."""

"""The agent's SQL, one module per table: every function takes the connection of the caller's unit of work."""

"""Database access of the sandbox bank: one module per table group, SQL only."""

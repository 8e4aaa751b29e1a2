"""SQL only, one module per group of tables; every function takes the connection of the caller's unit of
work. char(n) columns are rtrim-ed on the way out; callers pass trimmed values."""

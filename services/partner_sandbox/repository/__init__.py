"""SQL only; every function takes the connection of the caller's unit of work."""

"""user-center's background workers (each runs as ``python -m user_center.workers.<name>``)."""

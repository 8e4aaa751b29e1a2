"""bank-callback's background workers, each run as ``python -m bank_callback.workers.<name>``."""

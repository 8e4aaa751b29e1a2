"""Background workers of the sandbox bank (run as ``python -m bank_sandbox.workers.<name>``)."""

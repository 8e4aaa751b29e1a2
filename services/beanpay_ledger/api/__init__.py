"""The ledger's HTTP API: its endpoints, one module per group (accounts, postings, batch, packages), their
schemas (schemas.py) and the shell that answers them all (shell.py). Each handler is a thin layer over a
use case of the library (accounts.py, postings.py, packages.py)."""

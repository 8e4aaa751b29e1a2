"""Daily reconciliation: the bank's statement against the agent's records, user-center and the ledger.

``python -m depository_agent reconcile --date YYYY-MM-DD`` (see docs/reconciliation.md).
"""

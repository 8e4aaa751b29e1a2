"""The agent's worker loops (``python -m depository_agent.workers.<name>``)."""
